/** A signed-in API caller for test setup (cookie + CSRF, or a bearer token). */
export class ApiSession {
  private cookie = '';
  private csrf = '';
  private bearer = '';

  constructor(readonly base: string) {}

  static async login(base: string, username: string, password: string): Promise<ApiSession> {
    const s = new ApiSession(base);
    const res = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
    if (res.status !== 200) throw new Error(`login ${username}: ${res.status} ${await res.text()}`);
    s.cookie = (res.headers.get('set-cookie') ?? '').split(';')[0]!;
    s.csrf = ((await res.json()) as { csrf_token: string }).csrf_token;
    return s;
  }

  static withToken(base: string, token: string): ApiSession {
    const s = new ApiSession(base);
    s.bearer = token;
    return s;
  }

  async raw(method: string, path: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.bearer) headers.authorization = `Bearer ${this.bearer}`;
    else {
      headers.cookie = this.cookie;
      headers['x-csrf-token'] = this.csrf;
    }
    return fetch(`${this.base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  }

  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.raw(method, path, body);
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return (res.status === 204 ? undefined : await res.json()) as T;
  }
}

/** Tries to sign in (for lockout and rate-limit set-up); returns the status. */
export async function attemptLogin(base: string, username: string, password: string): Promise<number> {
  const res = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
  await res.arrayBuffer();
  return res.status;
}

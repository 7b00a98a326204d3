/** A caller of a real server process: the headers that authenticate it. */
export interface HttpCaller {
  readonly label: string;
  readonly headers: Record<string, string>;
}

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  json<T>(): T;
}

/** One HTTP request to a server process; network failures reject (the caller decides what they mean). */
export async function call(base: string, caller: HttpCaller | null, method: string, path: string, body?: unknown, extraHeaders: Record<string, string> = {}): Promise<HttpAnswer> {
  const headers: Record<string, string> = { ...(caller?.headers ?? {}), ...extraHeaders };
  if (body !== undefined) headers['content-type'] ??= 'application/json';
  const res = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body), signal: AbortSignal.timeout(60_000) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: <T>() => JSON.parse(text) as T };
}

/** Signs in over HTTP; the caller carries the session cookie and its CSRF token. */
export async function signIn(base: string, username: string, password: string): Promise<HttpCaller> {
  const res = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`sign-in of ${username} failed: ${res.status} ${text}`);
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith('trailmark_session='))!.split(';')[0]!;
  return { label: username, headers: { cookie, 'x-csrf-token': (JSON.parse(text) as { csrf_token: string }).csrf_token } };
}

/** Creates an API token as `admin` and returns a caller that uses it. */
export async function createToken(base: string, admin: HttpCaller, scopes: string[], name = `token-${scopes.join('+')}`): Promise<HttpCaller & { id: string }> {
  const res = await call(base, admin, 'POST', '/api/tokens', { name, scopes });
  if (res.status !== 201) throw new Error(`token create failed: ${res.status} ${res.text}`);
  const { id, token } = res.json<{ id: string; token: string }>();
  return { id, label: name, headers: { authorization: `Bearer ${token}` } };
}

/** Polls `check` until it returns a value (not undefined) or the time is up. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000, everyMs = 250): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

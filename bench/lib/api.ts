import { HttpClient } from './http-client.js';

/** Signs in as the bench admin and returns the session cookie header (for verify and export). */
export async function adminCookie(baseUrl: string, username: string, password: string): Promise<string> {
  const client = new HttpClient(baseUrl, 1);
  try {
    const res = await client.request('/api/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
    if (res.status !== 200) throw new Error(`login failed: ${res.status} ${res.body.toString()}`);
    const setCookie = res.headers['set-cookie'] ?? [];
    const session = setCookie.map((c) => c.split(';')[0]!).find((c) => c.startsWith('trailmark_session='));
    if (!session) throw new Error('login answered without a session cookie');
    return session;
  } finally {
    client.close();
  }
}

/** Whether the running server has a route: anything but 404 for an authenticated GET. */
export async function routeExists(client: HttpClient, path: string, headers: Record<string, string>): Promise<boolean> {
  const res = await client.request(path, { method: 'HEAD', headers });
  return res.status !== 404;
}

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../support/backends.js';
import { ADMIN_PASSWORD, ANONYMOUS, buildTestApp } from '../support/test-app.js';
import type { TestApp } from '../support/test-app.js';

interface Entry { action: string; severity: string; actor: { type: string; name: string | null }; details: Record<string, unknown>; source: { ip: string | null; user_agent: string | null } }

for (const backend of BACKENDS) {
  describe(`auth API (${backend})`, () => {
    let t: TestApp;
    const latest = async (action: string, n = 1): Promise<Entry[]> => {
      const res = await t.request(t.admin, 'GET', `/api/audit?action=${action}&limit=${n}`);
      return (res.json() as { items: Entry[] }).items;
    };
    const login = (username: string, password: string) =>
      t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password }, headers: { 'user-agent': 'test-agent/1.0' } });

    beforeAll(async () => {
      t = await buildTestApp(backend);
    });
    afterAll(async () => {
      await t.close();
    });

    it('signs in with an HttpOnly SameSite=Strict cookie and records auth.login.success', async () => {
      const res = await login('admin', ADMIN_PASSWORD);
      expect(res.statusCode).toBe(200);
      const cookie = res.cookies.find((c) => c.name === 'trailmark_session')!;
      expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });
      expect((res.json() as { csrf_token: string }).csrf_token).toMatch(/^[A-Za-z0-9_-]{40,}$/);
      const [entry] = await latest('auth.login.success');
      expect(entry).toMatchObject({ actor: { type: 'user', name: 'admin' }, details: { username: 'admin', ip: '127.0.0.1', user_agent: 'test-agent/1.0' } });
    });

    it('gives the same answer for an unknown user and a wrong password, and records why', async () => {
      const unknown = await login('ghost', 'whatever-password');
      const wrong = await login('admin', 'not-the-password');
      expect(unknown.statusCode).toBe(401);
      expect(wrong.statusCode).toBe(401);
      expect(unknown.body).toBe(wrong.body);
      const [second, first] = await latest('auth.login.failed', 2);
      expect(first).toMatchObject({ severity: 'warning', details: { username: 'ghost', reason: 'unknown_user', ip: '127.0.0.1' } });
      expect(second).toMatchObject({ details: { username: 'admin', reason: 'bad_password' } });
      expect(JSON.stringify([first, second])).not.toContain('not-the-password');
    });

    it('locks an account after 5 failures (423 even with the right password) and records it', async () => {
      await t.core.users.create({ username: 'lockme', password: 'the-right-password', role: 'viewer' }, { type: 'system', id: 't', name: 't' });
      for (let i = 0; i < 5; i++) expect((await login('lockme', `wrong-${i}-password`)).statusCode).toBe(401);
      const locked = await login('lockme', 'the-right-password');
      expect(locked.statusCode).toBe(423);
      expect((locked.json() as { error: { details: { locked_until: string } } }).error.details.locked_until).toMatch(/Z$/);
      const [lock] = await latest('auth.account.locked');
      expect(lock).toMatchObject({ severity: 'critical', details: { username: 'lockme', attempt_count: 5 } });
      const [refused] = await latest('auth.login.failed');
      expect(refused!.details).toMatchObject({ username: 'lockme', reason: 'locked' });
      t.clock.advance(16 * 60_000);
      expect((await login('lockme', 'the-right-password')).statusCode).toBe(200);
    });

    it('counts parallel failures exactly', async () => {
      await t.core.users.create({ username: 'burst', password: 'the-right-password', role: 'viewer' }, { type: 'system', id: 't', name: 't' });
      const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => login('burst', `wrong-${i}-password`)));
      expect(answers.map((a) => a.statusCode).filter((s) => s === 401).length).toBeGreaterThanOrEqual(5);
      expect((await login('burst', 'the-right-password')).statusCode).toBe(423);
      expect((await latest('auth.account.locked', 5)).filter((e) => e.details.username === 'burst')).toHaveLength(1);
    });

    it('logs out: records auth.logout and ends the session', async () => {
      const caller = await t.login('admin', ADMIN_PASSWORD);
      expect((await t.request(caller, 'GET', '/api/auth/me')).json()).toMatchObject({ kind: 'user', username: 'admin', role: 'admin' });
      expect((await t.request(caller, 'POST', '/api/auth/logout')).statusCode).toBe(204);
      expect((await t.request(caller, 'GET', '/api/auth/me')).statusCode).toBe(401);
      expect((await latest('auth.logout'))[0]!.details).toEqual({ username: 'admin' });
    });

    it('creates tokens shown once, hashed at rest, audited, and revocable', async () => {
      const res = await t.request(t.admin, 'POST', '/api/tokens', { name: 'scanner-7', scopes: ['audit:write'] });
      expect(res.statusCode).toBe(201);
      const { id, token } = res.json() as { id: string; token: string };
      const rows = await t.core.db.all<Record<string, unknown>>('SELECT * FROM api_tokens WHERE id = ?', [id]);
      expect(JSON.stringify(rows)).not.toContain(token.split('.')[1]);
      const caller = { label: 'scanner', headers: { authorization: `Bearer ${token}` } };
      expect((await t.request(caller, 'GET', '/api/auth/me')).json()).toMatchObject({ kind: 'token', name: 'scanner-7', scopes: ['audit:write'] });
      const listed = (await t.request(t.admin, 'GET', '/api/tokens')).body;
      expect(listed).toContain('scanner-7');
      expect(listed).not.toContain(token);
      const [created] = await latest('auth.token.created');
      expect(created!.details).toEqual({ name: 'scanner-7', scopes: ['audit:write'], created_by: 'admin' });
      expect(JSON.stringify(created)).not.toContain(token);
      expect((await t.request(t.admin, 'DELETE', `/api/tokens/${id}`)).statusCode).toBe(204);
      expect((await t.request(caller, 'GET', '/api/auth/me')).statusCode).toBe(401);
      expect((await t.request(t.admin, 'DELETE', `/api/tokens/${id}`)).statusCode).toBe(404);
      expect((await latest('auth.token.revoked'))[0]!.details).toEqual({ name: 'scanner-7', revoked_by: 'admin' });
    });

    it('validates login and token bodies', async () => {
      expect((await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'a' } })).statusCode).toBe(400);
      expect((await t.request(t.admin, 'POST', '/api/tokens', { name: 'x', scopes: ['audit:admin'] })).statusCode).toBe(400);
      expect((await t.request(t.admin, 'POST', '/api/tokens', { name: 'x\n', scopes: ['audit:read'] })).statusCode).toBe(400);
      expect((await t.request(ANONYMOUS, 'GET', '/api/tokens')).statusCode).toBe(401);
    });

    it('ends idle sessions', async () => {
      const caller = await t.login('admin', ADMIN_PASSWORD);
      t.clock.advance(31 * 60_000);
      expect((await t.request(caller, 'GET', '/api/auth/me')).statusCode).toBe(401);
    });
  });
}

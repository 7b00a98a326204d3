import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE_DETAILS } from '../support/audit-fixtures.js';
import { BACKENDS } from '../support/backends.js';
import { ADMIN_PASSWORD, ANONYMOUS, TEST_RATE_LIMITS, USER_PASSWORD, buildTestApp } from '../support/test-app.js';
import type { Caller, TestApp } from '../support/test-app.js';
import { recordFigures } from './helpers/figures.js';
import type { Operation } from './helpers/openapi-fuzz.js';
import { operationsOf } from './helpers/openapi-fuzz.js';

const MINUTE = 60_000;
const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

const sessionOf = (res: { cookies: Array<{ name: string; value: string }> }): string | undefined => res.cookies.find((c) => c.name === 'trailmark_session')?.value;

async function operations(t: TestApp): Promise<Operation[]> {
  return operationsOf((await t.request(ANONYMOUS, 'GET', '/docs/json')).json() as Parameters<typeof operationsOf>[0]).filter((op) => op.path.startsWith('/api/'));
}

/** A concrete URL and body for an operation, with fresh resources where it names one. */
async function requestFor(t: TestApp, op: Operation): Promise<{ url: string; body?: unknown }> {
  const made = async (path: string, body: unknown): Promise<string> => ((await t.request(t.admin, 'POST', path, body)).json() as { id: string }).id;
  const id = op.path.startsWith('/api/users/') ? await made('/api/users', { username: `u${Math.random().toString(36).slice(2, 10)}`, password: USER_PASSWORD, role: 'viewer' })
    : op.path.startsWith('/api/tokens/') ? await made('/api/tokens', { name: 'victim', scopes: ['audit:read'] })
    : op.path.startsWith('/api/alert-rules/') ? await made('/api/alert-rules', { name: 'victim', event_types: ['auth.*'], channel: { type: 'webhook', url: 'http://127.0.0.1:9/x' } })
    : op.path.startsWith('/api/subscriptions/') ? '0f8fad5b-d9cb-469f-a165-70867728950e'
    : 'x';
  const url = op.path.replace(/\{\w+\}/g, id);
  const bodies: Record<string, unknown> = {
    'POST /api/audit/events': { events: [{ action: 'sync.completed', resource: { type: 'sync_job', id: 's' }, details: SAMPLE_DETAILS['sync.completed'] }] },
    'POST /api/tokens': { name: 'csrf', scopes: ['audit:read'] },
    'POST /api/users': { username: `c${Math.random().toString(36).slice(2, 10)}`, password: USER_PASSWORD, role: 'viewer' },
    'PATCH /api/users/{id}': { role: 'auditor' },
    'POST /api/auth/password': { current_password: 'not-the-current-password', new_password: 'another-long-password-1' },
    'PUT /api/settings': { tenant_name: 'CSRF was here' },
    'POST /api/subscriptions': { subscription_id: crypto.randomUUID() },
    'POST /api/alert-rules': { name: 'csrf', event_types: ['auth.*'], channel: { type: 'webhook', url: 'http://127.0.0.1:9/x' } },
    'PATCH /api/alert-rules/{id}': { enabled: false },
  };
  return { url, body: bodies[`${op.method} ${op.path}`] };
}

for (const backend of BACKENDS) {
  describe(`access: sessions, CSRF, token scopes and revocation (${backend})`, () => {
    let t: TestApp;
    let ops: Operation[];
    beforeAll(async () => {
      t = await buildTestApp(backend);
      ops = await operations(t);
      await t.request(t.admin, 'POST', '/api/subscriptions', { subscription_id: '0f8fad5b-d9cb-469f-a165-70867728950e' });
    });
    afterAll(async () => {
      await t?.close();
    });

    it('issues a new session id at every sign-in, whatever session cookie the browser already carries (no fixation)', async () => {
      const viewer = await t.userWithRole('viewer');
      const viewerName = ((await t.request(viewer, 'GET', '/api/auth/me')).json() as { username: string }).username;
      const attackerSession = sessionOf(await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: viewerName, password: USER_PASSWORD } }))!;
      const planted = ['attacker-chosen-session-id', attackerSession, 'x'.repeat(64)];
      for (const value of planted) {
        const res = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'admin', password: ADMIN_PASSWORD }, headers: { cookie: `trailmark_session=${value}` } });
        expect(res.statusCode).toBe(200);
        const issued = sessionOf(res)!;
        expect(issued).not.toBe(value);
        expect(res.body).not.toContain(issued);
        // The planted value is no admin session: unknown, or still the attacker's own.
        const me = await t.app.inject({ method: 'GET', url: '/api/auth/me', headers: { cookie: `trailmark_session=${value}` } });
        if (me.statusCode === 200) expect((me.json() as { username: string }).username).toBe(viewerName);
        else expect(me.statusCode).toBe(401);
      }
      const first = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'admin', password: ADMIN_PASSWORD } });
      const second = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'admin', password: ADMIN_PASSWORD }, headers: { cookie: `trailmark_session=${sessionOf(first)!}` } });
      expect(sessionOf(second)).not.toBe(sessionOf(first));
      expect((second.json() as { csrf_token: string }).csrf_token).not.toBe((first.json() as { csrf_token: string }).csrf_token);
    });

    it('refuses every cookie-authenticated write without this session’s CSRF token, changing nothing', async () => {
      const writes = ops.filter((op) => WRITES.has(op.method) && op.access !== 'public' && op.access.roles.length > 0);
      expect(writes.length).toBeGreaterThan(10);
      const other = await t.userWithRole('viewer');
      const problems: string[] = [];
      let tried = 0;
      for (const op of writes) {
        const { url, body } = await requestFor(t, op);
        const admin = await t.login('admin', ADMIN_PASSWORD);
        const head = (await t.core.auditStore.chainState()).head.seq;
        const variants: Array<[string, Record<string, string>, string]> = [
          ['no token', { cookie: admin.headers.cookie! }, url],
          ['an empty token', { cookie: admin.headers.cookie!, 'x-csrf-token': '' }, url],
          ['a wrong token', { cookie: admin.headers.cookie!, 'x-csrf-token': `${admin.headers['x-csrf-token']}x` }, url],
          ['another session’s token', { cookie: admin.headers.cookie!, 'x-csrf-token': other.headers['x-csrf-token']! }, url],
          ['the token in the query string', { cookie: admin.headers.cookie! }, `${url}${url.includes('?') ? '&' : '?'}csrf_token=${admin.headers['x-csrf-token']}`],
        ];
        for (const [how, headers, target] of variants) {
          tried += 1;
          const res = await t.app.inject({ method: op.method as 'POST', url: target, headers, payload: body as object | undefined });
          if (res.statusCode !== 403 || (res.json() as { error: { code: string } }).error.code !== 'csrf_failed') problems.push(`${op.method} ${op.path} with ${how}: ${res.statusCode} ${res.body.slice(0, 100)}`);
        }
        if ((await t.core.auditStore.chainState()).head.seq !== head) problems.push(`${op.method} ${op.path}: a refused write was recorded`);
        // With the right token the same request gets past the CSRF check.
        const ok = await t.request(admin, op.method, url, body);
        if (ok.statusCode === 403) problems.push(`${op.method} ${op.path}: refused even with the right CSRF token (${ok.body.slice(0, 100)})`);
      }
      expect(problems).toEqual([]);
      recordFigures(`access-csrf-${backend}`, {}, { cookie_write_routes: writes.length, csrf_attempts_refused: tried });
    });

    it('holds token scopes on every route, and a revoked token stops working at once', async () => {
      const tokens: Array<[string[], Caller]> = [
        [['audit:read'], await t.token(['audit:read'])],
        [['audit:write'], await t.token(['audit:write'])],
        [['audit:read', 'audit:write'], await t.token(['audit:read', 'audit:write'])],
      ];
      const problems: string[] = [];
      for (const op of ops.filter((o) => o.access !== 'public' && o.path !== '/api/audit/stream')) {
        const rule = op.access as { roles: string[]; scopes: string[] };
        for (const [scopes, caller] of tokens) {
          const { url, body } = await requestFor(t, op);
          const res = await t.request(caller, op.method, url, body);
          const allowed = scopes.some((s) => rule.scopes.includes(s));
          if (!allowed && res.statusCode !== 403) problems.push(`token [${scopes.join(',')}] ${op.method} ${op.path}: ${res.statusCode} (should be 403)`);
          if (allowed && (res.statusCode === 401 || res.statusCode === 403)) problems.push(`token [${scopes.join(',')}] ${op.method} ${op.path}: ${res.statusCode} (should be allowed)`);
        }
      }
      expect(problems).toEqual([]);

      const created = (await t.request(t.admin, 'POST', '/api/tokens', { name: 'short-lived', scopes: ['audit:read', 'audit:write'] })).json() as { id: string; token: string };
      const bearer: Caller = { label: 'short-lived', headers: { authorization: `Bearer ${created.token}` } };
      expect((await t.request(bearer, 'GET', '/api/audit?limit=1')).statusCode).toBe(200);
      expect((await t.request(t.admin, 'DELETE', `/api/tokens/${created.id}`)).statusCode).toBe(204);
      const head = (await t.core.auditStore.chainState()).head.seq;
      expect((await t.request(bearer, 'GET', '/api/audit?limit=1')).statusCode).toBe(401);
      expect((await t.request(bearer, 'POST', '/api/audit/events', { events: [{ action: 'sync.completed', resource: { type: 'sync_job', id: 'late' }, details: SAMPLE_DETAILS['sync.completed'] }] })).statusCode).toBe(401);
      expect((await t.request(bearer, 'GET', '/api/audit/stream')).statusCode).toBe(401);
      expect((await t.core.auditStore.chainState()).head.seq).toBe(head);
      // A forged token with the same id and another secret is no token either.
      const forged = `${created.token.split('.')[0]}.${'A'.repeat(43)}`;
      expect((await t.request({ label: 'forged', headers: { authorization: `Bearer ${forged}` } }, 'GET', '/api/audit?limit=1')).statusCode).toBe(401);
    });

    it('ends sessions after the idle time and after the absolute time, however busy, and when the user is disabled', async () => {
      const idle = await t.userWithRole('auditor');
      t.clock.advance(31 * MINUTE);
      expect((await t.request(idle, 'GET', '/api/audit?limit=1')).statusCode).toBe(401);
      expect((await t.request(idle, 'POST', '/api/auth/logout')).statusCode).toBe(401);

      const busy = await t.userWithRole('auditor');
      for (let elapsed = 0; elapsed < 12 * 60; elapsed += 20) {
        expect((await t.request(busy, 'GET', '/api/audit?limit=1')).statusCode, `after ${elapsed} minutes of use`).toBe(200);
        t.clock.advance(20 * MINUTE);
      }
      // Exactly 12 hours after sign-in it still holds; a minute later it is over, busy or not.
      t.clock.advance(MINUTE);
      expect((await t.request(busy, 'GET', '/api/audit?limit=1')).statusCode).toBe(401);

      const admin = await t.login('admin', ADMIN_PASSWORD);
      const victim = await t.userWithRole('viewer');
      const me = (await t.request(victim, 'GET', '/api/auth/me')).json() as { id: string };
      expect((await t.request(admin, 'PATCH', `/api/users/${me.id}`, { disabled: true })).statusCode).toBe(200);
      expect((await t.request(victim, 'GET', '/api/audit?limit=1')).statusCode).toBe(401);
    });
  });
}

describe('brute force: 50 parallel sign-in attempts', () => {
  let t: TestApp;
  beforeAll(async () => {
    // Production's default per-IP sign-in limit (20 a minute); client IPs come from X-Forwarded-For.
    t = await buildTestApp('sqlite', { trustProxy: true, rateLimits: { ...TEST_RATE_LIMITS, loginPerMinute: 20 } });
  });
  afterAll(async () => {
    await t?.close();
  });

  const attempt = (username: string, password: string, ip: string) =>
    t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password }, headers: { 'x-forwarded-for': ip } });

  it('from one IP: at most the per-IP limit is served, the rest get 429 with Retry-After, the right password among them too', async () => {
    await t.core.users.create({ username: 'per-ip', password: 'per-ip-password-123', role: 'viewer' }, { type: 'system', id: 't', name: 't' });
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => attempt(i === 49 ? 'per-ip' : `nobody-${i}`, i === 49 ? 'per-ip-password-123' : 'guess', '198.51.100.20')));
    const limited = answers.filter((a) => a.statusCode === 429);
    const served = answers.filter((a) => a.statusCode !== 429);
    // At most the limit is served. (@fastify/rate-limit 11.2 reads its shared in-memory counter after an
    // await, so a burst larger than the limit is refused entirely: stricter than the limit, never looser.)
    expect(served.length).toBeLessThanOrEqual(20);
    expect(served.every((a) => a.statusCode === 401)).toBe(true);
    expect(limited.length).toBe(50 - served.length);
    expect(limited.every((a) => Number(a.headers['retry-after']) > 0 && (a.json() as { error: { code: string } }).error.code === 'rate_limited')).toBe(true);
    recordFigures('access-per-ip', {}, { parallel_attempts: 50, served: served.length, refused_429: limited.length, limit_per_minute: 20 });
    expect((await attempt('per-ip', 'per-ip-password-123', '198.51.100.21')).statusCode).toBe(200);
  });

  it('on one account from 50 IPs: no more password guesses are checked than the lockout threshold, and the lock holds', async () => {
    await t.core.users.create({ username: 'victim', password: 'victim-password-123', role: 'viewer' }, { type: 'system', id: 't', name: 't' });
    const threshold = (await t.core.settings.get()).lockout_threshold;
    const head = (await t.core.auditStore.chainState()).head.seq;
    // The right password is one of the 50 guesses, as an attacker with a good list would have it.
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => attempt('victim', i === 30 ? 'victim-password-123' : `guess-${i}`, `203.0.113.${i + 1}`)));
    const counts: Record<number, number> = {};
    for (const a of answers) counts[a.statusCode] = (counts[a.statusCode] ?? 0) + 1;
    const checked = answers.filter((a) => a.statusCode === 401 || a.statusCode === 200).length;
    const failures: string[] = [];
    if (checked > threshold) failures.push(`${checked} of 50 parallel guesses were checked against the password (threshold ${threshold}); answers ${JSON.stringify(counts)}`);
    if (answers[30]!.statusCode === 200 && checked > threshold) failures.push('the right password got in as guess number 31, past the lockout');
    const after = await attempt('victim', 'victim-password-123', '203.0.113.200');
    if (after.statusCode !== 423) failures.push(`after the storm the right password answered ${after.statusCode}, not 423 (locked)`);
    const recorded: string[] = [];
    for await (const e of t.core.auditStore.iterate({}, { fromSeq: head + 1 })) recorded.push(e.action);
    if (recorded.filter((a) => a === 'auth.account.locked').length !== 1) failures.push(`auth.account.locked recorded ${recorded.filter((a) => a === 'auth.account.locked').length} times`);
    recordFigures('access-brute-force', {}, { parallel_attempts: 50, password_checks: checked, lockout_threshold: threshold, answers: counts });
    expect(failures).toEqual([]);
  });
});

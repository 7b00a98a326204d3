import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import helmet from 'helmet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SECURITY_HEADER_POLICY } from '../../src/http/build-server.js';
import { SAMPLE_DETAILS } from '../support/audit-fixtures.js';
import { ADMIN_PASSWORD, ANONYMOUS, TEST_RATE_LIMITS, buildTestApp } from '../support/test-app.js';
import type { TestApp } from '../support/test-app.js';

describe('HTTP hardening', () => {
  let t: TestApp;
  let logs = '';

  beforeAll(async () => {
    const stream = new PassThrough();
    stream.on('data', (d: Buffer) => (logs += d.toString()));
    t = await buildTestApp('sqlite', { logStream: stream, trustProxy: true, rateLimits: { ...TEST_RATE_LIMITS, loginPerMinute: 8 } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('limits sign-in attempts per IP with 429 and Retry-After, documented in /docs', async () => {
    const attempt = (ip: string) => t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'nobody', password: 'x' }, headers: { 'x-forwarded-for': ip } });
    const answers = await Promise.all(Array.from({ length: 12 }, () => attempt('198.51.100.7')));
    const limited = answers.filter((a) => a.statusCode === 429);
    expect(limited.length).toBeGreaterThanOrEqual(4);
    expect(Number(limited[0]!.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited[0]!.json()).toMatchObject({ error: { code: 'rate_limited' } });
    expect((await attempt('198.51.100.8')).statusCode).toBe(401);
    const doc = (await t.request(ANONYMOUS, 'GET', '/docs/json')).json() as { paths: Record<string, Record<string, { description: string }>> };
    expect(doc.paths['/api/auth/login']!.post!.description).toContain('Rate limit:** 8 requests per minute per client IP');
    expect(doc.paths['/api/audit']!.get!.description).toMatch(/Rate limit:\*\* \d+ requests per minute per caller/);
  });

  it('refuses oversized bodies with 413 and deeply nested details with 400, storing nothing', async () => {
    const writer = await t.token(['audit:write']);
    const before = await t.core.auditStore.chainState();
    const huge = { events: [{ action: 'sync.failed', resource: { type: 'sync_job', id: 'x' }, details: { error_message: 'x', failed_secrets: [], blob: 'x'.repeat(6 * 1024 * 1024) } }] };
    const big = await t.request(writer, 'POST', '/api/audit/events', huge);
    expect(big.statusCode).toBe(413);
    expect(big.json()).toMatchObject({ error: { code: 'payload_too_large' } });
    let nested: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 20; i++) nested = { n: nested };
    const deep = await t.request(writer, 'POST', '/api/audit/events', { events: [{ action: 'sync.completed', resource: { type: 'sync_job', id: 'x' }, details: { ...SAMPLE_DETAILS['sync.completed'], nested } }] });
    expect(deep.statusCode).toBe(400);
    expect(deep.json()).toMatchObject({ error: { code: 'validation_failed' } });
    expect((await t.core.auditStore.chainState()).head.seq).toBe(before.head.seq);
  });

  it('sends security headers and Secure cookies behind an HTTPS proxy', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'admin', password: ADMIN_PASSWORD }, headers: { 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.50' } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(String(res.headers['content-security-policy'])).toContain("default-src 'self'");
    expect(res.cookies.find((c) => c.name === 'trailmark_session')).toMatchObject({ secure: true, httpOnly: true, sameSite: 'Strict' });
    const plain = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'admin', password: ADMIN_PASSWORD }, headers: { 'x-forwarded-for': '203.0.113.51' } });
    expect(plain.cookies.find((c) => c.name === 'trailmark_session')!.secure).toBeFalsy();
  });

  it("sets exactly helmet's own security headers on every response, worked out once at start-up", async () => {
    // Helmet itself, run per request on a plain HTTP server with the same policy.
    const server = createServer((req, res) => helmet(SECURITY_HEADER_POLICY)(req, res, () => res.end('ok')));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const reference = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      const expected = [...reference.headers.entries()].filter(([name]) => !['date', 'connection', 'keep-alive', 'content-length', 'transfer-encoding'].includes(name));
      expect(expected.length).toBeGreaterThan(8);
      for (const res of [await t.request(ANONYMOUS, 'GET', '/healthz'), await t.request(ANONYMOUS, 'GET', '/api/audit'), await t.app.inject({ method: 'GET', url: '/no/such/page' })]) {
        for (const [name, value] of expected) expect([name, String(res.headers[name])]).toEqual([name, value]);
        expect(res.headers['x-powered-by']).toBeUndefined();
      }
    } finally {
      server.close();
    }
  });

  it('keeps every secret out of audit entries, logs and error bodies after a full scenario', async () => {
    const seen: string[] = [];
    const admin = await t.login('admin', ADMIN_PASSWORD);
    const tokenRes = await t.request(admin, 'POST', '/api/tokens', { name: 'scenario', scopes: ['audit:write', 'audit:read'] });
    const token = (tokenRes.json() as { token: string }).token;
    const secrets = [ADMIN_PASSWORD, 'scenario-user-password', 'scenario-new-password', token, token.split('.')[1]!, 'scenario-webhook-secret', 'Bearer scenario-header-token', 'scenario-url-key', 'test-secret-key-0123456789abcdefghijkl'];
    const collect = (body: string): void => void seen.push(body);
    collect((await t.request(admin, 'POST', '/api/users', { username: 'sc-user', password: 'scenario-user-password', role: 'viewer' })).body);
    const users = (await t.request(admin, 'GET', '/api/users')).json() as { users: Array<{ id: string; username: string }> };
    const sc = users.users.find((u) => u.username === 'sc-user')!;
    collect((await t.request(admin, 'PATCH', `/api/users/${sc.id}`, { password: 'scenario-new-password' })).body);
    collect((await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'sc-user', password: 'scenario-user-password' } })).body);
    collect((await t.request(admin, 'POST', '/api/alert-rules', { name: 'sc', event_types: ['*'], channel: { type: 'webhook', url: 'https://siem.example/in?key=scenario-url-key', secret: 'scenario-webhook-secret', headers: { Authorization: 'Bearer scenario-header-token' } } })).body);
    collect((await t.request(admin, 'POST', '/api/alert-rules', { name: 'bad', event_types: ['*'], channel: { type: 'webhook', url: 'ftp://x?key=scenario-url-key', secret: 'scenario-webhook-secret' } })).body);
    collect((await t.request({ label: 'worker', headers: { authorization: `Bearer ${token}` } }, 'POST', '/api/audit/events', { events: [{ action: 'nope', resource: { type: 'x', id: 'y' }, details: {} }] })).body);
    collect((await t.request({ label: 'forged', headers: { authorization: `Bearer ${token}x` } }, 'GET', '/api/audit')).body);
    collect((await t.request(admin, 'PUT', '/api/settings', { tenant_name: 'Scenario' })).body);
    collect(JSON.stringify((await t.request(admin, 'GET', '/api/audit?limit=1000')).json()));
    const haystack = [...seen, logs].join('\n');
    expect(logs.length).toBeGreaterThan(1000);
    for (const secret of secrets) expect(haystack.includes(secret), `leaked: ${secret.slice(0, 12)}…`).toBe(false);
  });
});

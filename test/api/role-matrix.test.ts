import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role, Scope } from '../../src/auth/access.js';
import { SAMPLE_DETAILS } from '../support/audit-fixtures.js';
import { ANONYMOUS, buildTestApp } from '../support/test-app.js';
import type { Caller, TestApp } from '../support/test-app.js';

type Who = Role | Scope;
interface RouteCase {
  /** Who may call it: the expected rule, written independently of the code. */
  allowed: Who[];
  /** What the route declares when a setting narrows it at run time (default: `allowed`). */
  declared?: Who[];
  /** A valid request for an allowed caller (resources it needs are made fresh per call). */
  make: (t: TestApp) => Promise<{ url: string; body?: unknown }>;
}

const EVERY_ROLE: Who[] = ['admin', 'auditor', 'operator', 'viewer'];
const guid = (): string => crypto.randomUUID();
const subscription = async (t: TestApp): Promise<string> => {
  const id = guid();
  await t.request(t.admin, 'POST', '/api/subscriptions', { subscription_id: id });
  return id;
};
const rule = async (t: TestApp): Promise<string> =>
  ((await t.request(t.admin, 'POST', '/api/alert-rules', { name: 'r', event_types: ['auth.*'], channel: { type: 'webhook', url: 'http://127.0.0.1:9/hook' } })).json() as { id: string }).id;
const user = async (t: TestApp): Promise<string> =>
  ((await t.request(t.admin, 'POST', '/api/users', { username: `u${guid().slice(0, 8)}`, password: 'a-long-password-1', role: 'viewer' })).json() as { id: string }).id;
const token = async (t: TestApp): Promise<string> => ((await t.request(t.admin, 'POST', '/api/tokens', { name: 'victim', scopes: ['audit:read'] })).json() as { id: string }).id;
const anyEntryId = async (t: TestApp): Promise<string> => ((await t.request(t.admin, 'GET', '/api/audit?limit=1')).json() as { items: Array<{ id: string }> }).items[0]!.id;

/** Every route of the API. A route missing here fails the test: its rule must be stated. */
const ROUTES: Record<string, RouteCase> = {
  'POST /api/auth/login': { allowed: ['public' as Who], make: async () => ({ url: '/api/auth/login', body: { username: 'admin', password: 'admin-password-for-tests' } }) },
  'POST /api/auth/logout': { allowed: EVERY_ROLE, make: async () => ({ url: '/api/auth/logout' }) },
  'GET /api/auth/me': { allowed: [...EVERY_ROLE, 'audit:read', 'audit:write'], make: async () => ({ url: '/api/auth/me' }) },
  'POST /api/auth/password': { allowed: EVERY_ROLE, make: async () => ({ url: '/api/auth/password', body: { current_password: 'wrong-on-purpose', new_password: 'another-long-password' } }) },
  'POST /api/audit/events': { allowed: ['audit:write'], make: async () => ({ url: '/api/audit/events', body: { events: [{ action: 'sync.completed', resource: { type: 'sync_job', id: 's1' }, details: SAMPLE_DETAILS['sync.completed'] }] } }) },
  'GET /api/audit': { allowed: [...EVERY_ROLE, 'audit:read'], make: async () => ({ url: '/api/audit?limit=1' }) },
  // lifetime=1: the live stream ends after a second, so the request completes.
  'GET /api/audit/stream': { allowed: [...EVERY_ROLE, 'audit:read'], make: async () => ({ url: '/api/audit/stream?lifetime=1' }) },
  'GET /api/audit/catalog': { allowed: [...EVERY_ROLE, 'audit:read', 'audit:write'], make: async () => ({ url: '/api/audit/catalog' }) },
  'GET /api/audit/keys': { allowed: ['public' as Who], make: async () => ({ url: '/api/audit/keys' }) },
  'GET /api/audit/checkpoints': { allowed: [...EVERY_ROLE, 'audit:read'], make: async () => ({ url: '/api/audit/checkpoints' }) },
  // Auditors are declared, but refused while `auditors_may_export` is off (the default).
  'GET /api/audit/export': { allowed: ['admin'], declared: ['admin', 'auditor'], make: async () => ({ url: '/api/audit/export?format=csv' }) },
  'GET /api/audit/verify': { allowed: ['admin'], make: async () => ({ url: '/api/audit/verify' }) },
  'GET /api/audit/{id}': { allowed: [...EVERY_ROLE, 'audit:read'], make: async (t) => ({ url: `/api/audit/${await anyEntryId(t)}` }) },
  'POST /api/tokens': { allowed: ['admin'], make: async () => ({ url: '/api/tokens', body: { name: 'x', scopes: ['audit:read'] } }) },
  'GET /api/tokens': { allowed: ['admin'], make: async () => ({ url: '/api/tokens' }) },
  'DELETE /api/tokens/{id}': { allowed: ['admin'], make: async (t) => ({ url: `/api/tokens/${await token(t)}` }) },
  'GET /api/users': { allowed: ['admin'], make: async () => ({ url: '/api/users' }) },
  'POST /api/users': { allowed: ['admin'], make: async () => ({ url: '/api/users', body: { username: `n${guid().slice(0, 8)}`, password: 'a-long-password-2', role: 'viewer' } }) },
  'PATCH /api/users/{id}': { allowed: ['admin'], make: async (t) => ({ url: `/api/users/${await user(t)}`, body: { role: 'auditor' } }) },
  'DELETE /api/users/{id}': { allowed: ['admin'], make: async (t) => ({ url: `/api/users/${await user(t)}` }) },
  'GET /api/settings': { allowed: ['admin'], make: async () => ({ url: '/api/settings' }) },
  'PUT /api/settings': { allowed: ['admin'], make: async () => ({ url: '/api/settings', body: { tenant_name: `Tenant ${guid().slice(0, 4)}` } }) },
  'GET /api/subscriptions': { allowed: EVERY_ROLE, make: async () => ({ url: '/api/subscriptions' }) },
  'POST /api/subscriptions': { allowed: ['admin', 'operator'], make: async () => ({ url: '/api/subscriptions', body: { subscription_id: guid() } }) },
  'DELETE /api/subscriptions/{id}': { allowed: ['admin', 'operator'], make: async (t) => ({ url: `/api/subscriptions/${await subscription(t)}` }) },
  'GET /api/alert-rules': { allowed: EVERY_ROLE, make: async () => ({ url: '/api/alert-rules' }) },
  'POST /api/alert-rules': { allowed: ['admin', 'operator'], make: async () => ({ url: '/api/alert-rules', body: { name: 'n', event_types: ['rotation.*'], channel: { type: 'webhook', url: 'https://siem.example/x' } } }) },
  'GET /api/alert-rules/{id}': { allowed: EVERY_ROLE, make: async (t) => ({ url: `/api/alert-rules/${await rule(t)}` }) },
  'PATCH /api/alert-rules/{id}': { allowed: ['admin', 'operator'], make: async (t) => ({ url: `/api/alert-rules/${await rule(t)}`, body: { enabled: false } }) },
  'GET /api/alert-rules/{id}/deliveries': { allowed: EVERY_ROLE, make: async (t) => ({ url: `/api/alert-rules/${await rule(t)}/deliveries` }) },
  'POST /api/alert-rules/{id}/test': { allowed: ['admin', 'operator'], make: async (t) => ({ url: `/api/alert-rules/${await rule(t)}/test` }) },
  'DELETE /api/alert-rules/{id}': { allowed: ['admin', 'operator'], make: async (t) => ({ url: `/api/alert-rules/${await rule(t)}` }) },
};

describe('authorization over every route', () => {
  let t: TestApp;
  let callers: Array<{ who: Who | 'anonymous'; caller: () => Promise<Caller> }>;
  let operations: string[];

  beforeAll(async () => {
    t = await buildTestApp('sqlite');
    const doc = (await t.request(ANONYMOUS, 'GET', '/docs/json')).json() as { paths: Record<string, Record<string, unknown>> };
    operations = Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`));
    // Sessions are made fresh per call: logout, password changes and deletions end them.
    callers = [
      { who: 'anonymous', caller: async () => ANONYMOUS },
      ...(['admin', 'auditor', 'operator', 'viewer'] as const).map((role) => ({ who: role, caller: () => (role === 'admin' ? t.login('admin', 'admin-password-for-tests') : t.userWithRole(role)) })),
      { who: 'audit:read' as const, caller: () => t.token(['audit:read']) },
      { who: 'audit:write' as const, caller: () => t.token(['audit:write']) },
    ];
  });
  afterAll(async () => {
    await t.close();
  });

  it('states a rule for every documented route, matching what /docs declares', async () => {
    const doc = (await t.request(ANONYMOUS, 'GET', '/docs/json')).json() as { paths: Record<string, Record<string, { 'x-access'?: { roles: string[]; scopes: string[] } }>> };
    expect(operations.filter((op) => op.includes('/api/')).sort()).toEqual(Object.keys(ROUTES).sort());
    for (const [op, { allowed, declared: declaredRule }] of Object.entries(ROUTES)) {
      const [method, path] = op.split(' ') as [string, string];
      const declared = doc.paths[path]![method.toLowerCase()]!['x-access'];
      if (allowed.includes('public' as Who)) expect(declared, op).toBeUndefined();
      else expect([...declared!.roles, ...declared!.scopes].sort(), op).toEqual([...(declaredRule ?? allowed)].sort());
    }
  });

  it('answers 401 to anonymous callers, 403 to lesser roles and scopes, and success to the allowed', async () => {
    const failures: string[] = [];
    for (const [op, route] of Object.entries(ROUTES)) {
      const [method, path] = op.split(' ') as [string, string];
      for (const { who, caller } of callers) {
        const { url, body } = await route.make(t);
        const res = await t.request(await caller(), method, url, body);
        const isPublic = route.allowed.includes('public' as Who);
        const expected = isPublic || (who !== 'anonymous' && route.allowed.includes(who)) ? 'ok' : who === 'anonymous' ? 401 : 403;
        const ok = expected === 'ok' ? res.statusCode < 300 || (op === 'POST /api/auth/password' && res.statusCode === 400) : res.statusCode === expected;
        if (!ok) failures.push(`${who} ${method} ${path}: expected ${expected}, got ${res.statusCode} ${res.body.slice(0, 120)}`);
      }
    }
    expect(failures).toEqual([]);
  }, 120_000);
});

import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { openCore } from '../../src/app.js';
import type { Core } from '../../src/app.js';
import type { Role, Scope } from '../../src/auth/access.js';
import { buildServer } from '../../src/http/build-server.js';
import { ManualClock } from '../../src/lib/clock.js';
import type { BackendName, TestDatabase } from './backends.js';
import { freshDatabaseUrl } from './backends.js';

export const ADMIN_PASSWORD = 'admin-password-for-tests';
export const USER_PASSWORD = 'user-password-for-tests';

/** Credentials for one caller: cookie + CSRF for users, a bearer header for tokens. */
export interface Caller {
  readonly label: string;
  readonly headers: Record<string, string>;
}

export const ANONYMOUS: Caller = { label: 'anonymous', headers: {} };

/** A real Trailmark server (in-process) on a fresh database of the given backend. */
export interface TestApp {
  readonly app: FastifyInstance;
  readonly core: Core;
  readonly clock: ManualClock;
  readonly admin: Caller;
  login(username: string, password: string): Promise<Caller>;
  userWithRole(role: Role): Promise<Caller>;
  token(scopes: Scope[], name?: string): Promise<Caller>;
  request(caller: Caller, method: string, url: string, payload?: unknown, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

/** Limits high enough that ordinary tests never meet them; rate-limit tests pass their own. */
export const TEST_RATE_LIMITS = { loginPerMinute: 10_000, ingestPerMinute: 1_000_000, apiPerMinute: 1_000_000 };

export async function buildTestApp(
  backend: BackendName,
  options: { rateLimits?: typeof TEST_RATE_LIMITS; logStream?: NodeJS.WritableStream; trustProxy?: boolean } = {},
): Promise<TestApp> {
  const tdb: TestDatabase = await freshDatabaseUrl(backend);
  const clock = new ManualClock(Date.now());
  const core = await openCore({ databaseUrl: tdb.url, clock, secretKey: 'test-secret-key-0123456789abcdefghijkl' });
  await core.users.ensureFirstAdmin(ADMIN_PASSWORD);
  const app = await buildServer(core, {
    logLevel: options.logStream ? 'info' : 'silent',
    logStream: options.logStream,
    trustProxy: options.trustProxy,
    rateLimits: options.rateLimits ?? TEST_RATE_LIMITS,
  });
  await app.ready();

  const request: TestApp['request'] = (caller, method, url, payload, headers = {}) =>
    app.inject({ method: method as 'GET', url, payload: payload as string | object | undefined, headers: { ...caller.headers, ...headers } });

  const login = async (username: string, password: string): Promise<Caller> => {
    const res = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password } });
    if (res.statusCode !== 200) throw new Error(`login ${username} failed: ${res.statusCode} ${res.body}`);
    const cookie = res.cookies.find((c) => c.name === 'trailmark_session');
    const csrf = (res.json() as { csrf_token: string }).csrf_token;
    return { label: username, headers: { cookie: `trailmark_session=${cookie!.value}`, 'x-csrf-token': csrf } };
  };
  const admin = await login('admin', ADMIN_PASSWORD);
  let n = 0;
  return {
    app,
    core,
    clock,
    admin,
    login,
    async userWithRole(role) {
      n += 1;
      const username = `${role}-${n}`;
      await core.users.create({ username, password: USER_PASSWORD, role }, { type: 'system', id: 'test', name: 'test' });
      return { ...(await login(username, USER_PASSWORD)), label: role };
    },
    async token(scopes, name = `token-${scopes.join('+')}`) {
      const res = await request(admin, 'POST', '/api/tokens', { name, scopes });
      if (res.statusCode !== 201) throw new Error(`token create failed: ${res.statusCode} ${res.body}`);
      return { label: `token(${scopes.join(',')})`, headers: { authorization: `Bearer ${(res.json() as { token: string }).token}` } };
    },
    request,
    async close() {
      await app.close();
      await core.close();
      await tdb.cleanup();
    },
  };
}

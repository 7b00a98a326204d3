import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChainVerifier } from '../../src/chain/chain-verifier.js';
import { SAMPLE_DETAILS } from '../support/audit-fixtures.js';
import { BACKENDS } from '../support/backends.js';
import { ADMIN_PASSWORD, ANONYMOUS, buildTestApp } from '../support/test-app.js';
import type { Caller, TestApp } from '../support/test-app.js';
import { recordFigures } from './helpers/figures.js';
import { hostileString } from './helpers/hostile-strings.js';
import type { JsonSchema, Operation } from './helpers/openapi-fuzz.js';
import { bodyOf, contentTypes, extraHeaders, headerSafe, operationsOf, queryOf } from './helpers/openapi-fuzz.js';

/** Cases per operation; the operations that hash a password (argon2) get fewer. */
const RUNS = Number(process.env.FUZZ_RUNS ?? 200);
const SLOW_RUNS = Math.max(10, Math.round(RUNS / 4));
const SLOW = new Set(['POST /api/auth/login', 'POST /api/users', 'PATCH /api/users/{id}', 'POST /api/auth/password', 'POST /api/auth/logout', 'GET /api/audit/export']);

/** Internals that must never reach a client. */
const STACK_TRACE = /\n\s+at [^\n]+:\d+:\d+|node_modules\/|\/src\/[\w/-]+\.ts\b|file:\/\/\//;
const SQL_LEAK = [/SQLITE_[A-Z]+/, /\bsyntax error\b/i, /\bno such (table|column)\b/i, /\brelation "/i, /\bviolates\b.*\bconstraint\b/i, /\bduplicate key\b/i, /\bSELECT\b[\s\S]*\bFROM\b/i, /\bINSERT INTO\b/i, /\bUPDATE \w+ SET\b/i, /\bDELETE FROM\b/i, /\bfts5\b/i, /\btsquery\b/i, /\bunterminated quoted\b/i];

const ACTIONS = Object.keys(SAMPLE_DETAILS);

/** Shapes that get past validation more often than schema-only values, with hostile free text. */
function validShapes(op: Operation): fc.Arbitrary<unknown> | undefined {
  if (op.method === 'POST' && op.path === '/api/audit/events') {
    const event = fc.record({
      action: fc.constantFrom(...ACTIONS),
      type: fc.oneof(fc.constant(undefined), hostileString(1, 64)),
      id: hostileString(1, 256),
      name: fc.option(hostileString(0, 512), { nil: undefined }),
      actorName: fc.option(hostileString(1, 256), { nil: undefined }),
    }).map((e) => ({
      action: e.action,
      resource: { type: e.type ?? 'thing', id: e.id, ...(e.name === undefined ? {} : { name: e.name }) },
      details: SAMPLE_DETAILS[e.action],
      ...(e.actorName === undefined ? {} : { actor: { type: 'worker', name: e.actorName } }),
    }));
    return fc.array(event, { minLength: 1, maxLength: 5 }).map((events) => ({ events }));
  }
  if ((op.method === 'POST' || op.method === 'PATCH') && op.path.startsWith('/api/alert-rules')) {
    return fc.record({
      name: hostileString(1, 128),
      event_types: fc.array(fc.constantFrom('auth.*', 'rotation.*', '*', 'audit.chain.broken'), { minLength: 1, maxLength: 3 }),
      channel: fc.record({ type: fc.constant('webhook'), url: fc.constantFrom('http://127.0.0.1:9/hook', 'https://siem.example/in?key=x'), headers: fc.dictionary(hostileString(1, 20), hostileString(0, 40), { maxKeys: 2 }) }),
    });
  }
  if (op.method === 'POST' && op.path === '/api/tokens') return fc.record({ name: hostileString(1, 128), scopes: fc.constantFrom(['audit:read'], ['audit:write']) });
  if (op.method === 'PUT' && op.path === '/api/settings') return fc.record({ tenant_name: hostileString(1, 128) });
  return undefined;
}

interface World {
  t: TestApp;
  callers: Record<'admin' | 'viewer' | 'operator' | 'tokenRW' | 'tokenR' | 'anonymous', Caller>;
  ids: Record<string, string[]>;
}

/** What a 4xx must leave untouched, by part (login failures may count attempts and lock; see below). */
async function snapshot(t: TestApp, forLogin: boolean): Promise<Record<string, string>> {
  const db = t.core.db;
  const part = async (sql: string): Promise<string> => JSON.stringify(await db.all(sql));
  return {
    head: forLogin ? '' : await part('SELECT seq FROM audit_chain_head WHERE id = 1'),
    users: await part(`SELECT id, username, role, disabled, password_hash${forLogin ? '' : ', locked_until'} FROM users ORDER BY id`),
    tokens: await part('SELECT id, name, revoked_at FROM api_tokens ORDER BY id'),
    settings: await part('SELECT key, value FROM settings ORDER BY key'),
    subscriptions: await part('SELECT subscription_id, display_name FROM subscriptions ORDER BY subscription_id'),
    alert_rules: await part('SELECT id, name, event_types, enabled, updated_at FROM alert_rules ORDER BY id'),
  };
}

function callerFor(op: Operation, world: World, pick: number): { caller: Caller; cookie: boolean } {
  const c = world.callers;
  if (pick < 10) {
    const stranger = [c.anonymous, c.viewer, c.tokenR, c.operator][pick % 4]!;
    return { caller: stranger, cookie: stranger === c.viewer || stranger === c.operator };
  }
  if (op.access === 'public') return { caller: c.anonymous, cookie: false };
  if (op.access.roles.includes('admin')) return { caller: c.admin, cookie: true };
  if (op.access.roles.length > 0) return { caller: c.operator, cookie: true };
  return { caller: c.tokenRW, cookie: false };
}

async function runCase(world: World, op: Operation, req: { url: string; body: string | Buffer | undefined; contentType: string; headers: Record<string, string>; callerPick: number; csrfPick: number }): Promise<string[]> {
  const { t } = world;
  const problems: string[] = [];
  let { caller, cookie } = callerFor(op, world, req.callerPick);
  if (op.method === 'POST' && op.path === '/api/auth/logout' && caller === world.callers.admin) {
    caller = await t.login('admin', ADMIN_PASSWORD);
    cookie = true;
  }
  const headers: Record<string, string> = { ...req.headers, ...caller.headers };
  if (cookie && req.csrfPick === 0) delete headers['x-csrf-token'];
  if (cookie && req.csrfPick === 1) headers['x-csrf-token'] = headerSafe(`${headers['x-csrf-token'] ?? ''}x`);
  if (req.body !== undefined) headers['content-type'] = req.contentType;
  const isLogin = op.path === '/api/auth/login';
  const before = await snapshot(t, isLogin);
  const headBefore = (await t.core.auditStore.chainState()).head;
  let res: LightMyRequestResponse;
  try {
    const stream = op.path === '/api/audit/stream';
    res = await t.app.inject({ method: op.method as 'GET', url: req.url, headers, payload: req.body, ...(stream ? { payloadAsStream: true } : {}) });
    if (stream) {
      const body = res.stream();
      if (res.statusCode < 300) body.destroy();
      else res = { ...res, body: await new Promise<string>((resolve) => { let text = ''; body.on('data', (d: Buffer) => (text += d.toString())); body.on('end', () => resolve(text)); }) } as LightMyRequestResponse;
    }
  } catch (err) {
    return [`the request failed: ${String(err)}`];
  }
  if (op.path === '/api/audit/export' && res.statusCode === 200) {
    // The export is audited once the response has finished: wait for that entry before judging.
    for (let i = 0; i < 250 && (await t.core.auditStore.chainState()).head.seq === headBefore.seq; i++) await new Promise((r) => setTimeout(r, 20));
  }
  const text = op.path === '/api/audit/stream' && res.statusCode < 300 ? '' : res.body;
  if (res.statusCode >= 500) problems.push(`answered ${res.statusCode}: ${text.slice(0, 300)}`);
  if (STACK_TRACE.test(text)) problems.push(`a stack trace or source path in the answer: ${text.slice(0, 300)}`);
  if (res.statusCode >= 400) {
    let parsed: { error?: { code?: unknown; message?: unknown } } | undefined;
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch {
      parsed = undefined;
    }
    if (typeof parsed?.error?.code !== 'string' || typeof parsed.error.message !== 'string') problems.push(`error body is not { error: { code, message } }: ${text.slice(0, 200)}`);
    const sent = `${decodeURIComponentSafe(req.url)}\n${req.body === undefined ? '' : req.body.toString()}`;
    for (const pattern of SQL_LEAK) if (pattern.test(text) && !pattern.test(sent)) problems.push(`SQL internals in the answer (${pattern}): ${text.slice(0, 300)}`);
    if (res.statusCode < 500) {
      const after = await snapshot(t, isLogin);
      const changed = Object.keys(after).filter((k) => after[k] !== before[k]);
      if (changed.length > 0) problems.push(`a ${res.statusCode} changed stored state (${changed.join(', ')})`);
      const head = (await t.core.auditStore.chainState()).head;
      if (!isLogin && head.seq !== headBefore.seq) problems.push(`a ${res.statusCode} appended ${head.seq - headBefore.seq} audit entries`);
      if (isLogin) {
        for await (const e of t.core.auditStore.iterate({}, { fromSeq: headBefore.seq + 1 })) {
          if (e.action !== 'auth.login.failed' && e.action !== 'auth.account.locked') problems.push(`a failed sign-in recorded ${e.action}`);
        }
      }
    }
  }
  // Whatever was appended links onto the chain and hashes to what is stored.
  const { head } = await t.core.auditStore.chainState();
  if (head.seq > headBefore.seq) {
    const verifier = new ChainVerifier({ seq: headBefore.seq, hash: headBefore.hash });
    for await (const e of t.core.auditStore.iterate({}, { fromSeq: headBefore.seq + 1, toSeq: head.seq })) if (!verifier.push(e)) break;
    const v = verifier.finish(head);
    if (!v.ok) problems.push(`the entries this request appended break the chain at seq ${v.first_bad_seq}: ${v.reason}`);
  }
  return problems;
}

/** Percent-encodes the UTF-8 bytes of a string (a lone surrogate goes as U+FFFD, as any client would send it). */
function percentEncode(s: string): string {
  return [...Buffer.from(s, 'utf8')].map((b) => (/[A-Za-z0-9._~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
}

/** Decodes every well-formed %XX run, leaving malformed ones as they are. */
function decodeURIComponentSafe(s: string): string {
  return s.replaceAll('+', ' ').replace(/(%[0-9A-Fa-f]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run;
    }
  });
}

function requestArbitrary(op: Operation, world: World, components: Record<string, JsonSchema>) {
  const pathParam = (name: string) => fc.oneof(
    { weight: 2, arbitrary: fc.constantFrom(...(world.ids[op.path] ?? ['0'])) },
    { weight: 3, arbitrary: hostileString(1, 64).map(percentEncode) },
    { weight: 1, arbitrary: fc.constantFrom('..', '%2e%2e', '%00', '%ff', '1%20OR%201%3D1', `${name}%0d%0aX-Injected:%201`) },
  );
  const names = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
  return fc.record({
    segments: fc.tuple(...names.map(pathParam)),
    query: queryOf(op, components),
    body: op.body ? bodyOf(op.body, components, validShapes(op)) : fc.constant(undefined),
    contentType: contentTypes,
    headers: extraHeaders,
    callerPick: fc.nat(99),
    csrfPick: fc.nat(19),
  }).map((r) => {
    let i = 0;
    const path = op.path.replace(/\{\w+\}/g, () => String(r.segments[i++]));
    return { url: `${path}${r.query}`, body: r.body, contentType: r.contentType, headers: r.headers, callerPick: r.callerPick, csrfPick: r.csrfPick };
  });
}

for (const backend of BACKENDS) {
  describe(`hostile input on every route, from the OpenAPI document (${backend})`, () => {
    let world: World;
    let operations: Operation[];
    let components: Record<string, JsonSchema>;

    beforeAll(async () => {
      const t = await buildTestApp(backend, { trustProxy: true });
      const doc = (await t.request(ANONYMOUS, 'GET', '/docs/json')).json() as Parameters<typeof operationsOf>[0];
      operations = operationsOf(doc).filter((op) => op.path.startsWith('/api/') || ['/healthz', '/readyz', '/metrics'].includes(op.path));
      components = doc.components?.schemas ?? {};
      const tokenRW = await t.token(['audit:write', 'audit:read'], 'fuzz-writer');
      const ingest = await t.request(tokenRW, 'POST', '/api/audit/events', { events: [{ action: 'sync.completed', resource: { type: 'sync_job', id: 'seed' }, details: SAMPLE_DETAILS['sync.completed'] }] });
      const victimUser = await t.request(t.admin, 'POST', '/api/users', { username: 'fuzz-victim', password: 'fuzz-victim-password', role: 'viewer' });
      const victimToken = await t.request(t.admin, 'POST', '/api/tokens', { name: 'fuzz-victim', scopes: ['audit:read'] });
      const victimRule = await t.request(t.admin, 'POST', '/api/alert-rules', { name: 'fuzz victim', event_types: ['auth.*'], channel: { type: 'webhook', url: 'http://127.0.0.1:9/hook' } });
      const sub = '0f8fad5b-d9cb-469f-a165-70867728950e';
      await t.request(t.admin, 'POST', '/api/subscriptions', { subscription_id: sub });
      world = {
        t,
        callers: {
          admin: t.admin,
          viewer: await t.userWithRole('viewer'),
          operator: await t.userWithRole('operator'),
          tokenRW,
          tokenR: await t.token(['audit:read'], 'fuzz-reader'),
          anonymous: ANONYMOUS,
        },
        ids: {
          '/api/audit/{id}': [(ingest.json() as { entries: Array<{ id: string }> }).entries[0]!.id],
          '/api/users/{id}': [(victimUser.json() as { id: string }).id],
          '/api/tokens/{id}': [(victimToken.json() as { id: string }).id],
          '/api/alert-rules/{id}': [(victimRule.json() as { id: string }).id],
          '/api/alert-rules/{id}/deliveries': [(victimRule.json() as { id: string }).id],
          '/api/alert-rules/{id}/test': [(victimRule.json() as { id: string }).id],
          '/api/subscriptions/{id}': [sub],
        },
      };
    });
    afterAll(async () => {
      await world?.t.close();
    });

    it('never answers 5xx, never shows a stack trace or SQL, stores nothing on a 4xx, and keeps the chain whole', async () => {
      expect(operations.length).toBeGreaterThan(25);
      const failures: string[] = [];
      const perOperation: Record<string, number> = {};
      let cases = 0;
      for (const op of operations) {
        const label = `${op.method} ${op.path}`;
        let runs = 0;
        const details = await fc.check(
          fc.asyncProperty(requestArbitrary(op, world, components), async (req) => {
            runs += 1;
            const problems = await runCase(world, op, req);
            if (problems.length > 0) throw new Error(problems.join('; '));
          }),
          { numRuns: SLOW.has(label) ? SLOW_RUNS : RUNS, seed: Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31), maxSkipsPerRun: 10 },
        );
        perOperation[label] = runs;
        cases += runs;
        if (details.failed) {
          const ce = details.counterexample?.[0] as { url: string; body?: string | Buffer } | undefined;
          const shown = (s: string): string => JSON.stringify(s).replace(/(.)\1{9,}/g, (run, c: string) => `${c}{×${run.length}}`).slice(0, 600);
          failures.push(`${label}: ${details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance)}\n    smallest failing request: ${ce?.url} ${shown(ce?.body?.toString() ?? '')} (seed ${details.seed}, path ${details.counterexamplePath})`);
        }
      }
      recordFigures(`fuzz-${backend}`, { fuzz_cases: cases }, { operations: operations.length, cases_per_operation: perOperation, failing_operations: failures.length });
      expect(failures).toEqual([]);
    }, 600_000);
  });
}

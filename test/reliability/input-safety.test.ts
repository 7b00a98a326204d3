import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChainVerifier } from '../../src/chain/chain-verifier.js';
import { verifyStoredChain } from '../../src/chain/verify-stored-chain.js';
import { SAMPLE_DETAILS } from '../support/audit-fixtures.js';
import { BACKENDS } from '../support/backends.js';
import { ADMIN_PASSWORD, ANONYMOUS, buildTestApp } from '../support/test-app.js';
import type { Caller, TestApp } from '../support/test-app.js';
import { startWebhookReceiver } from '../support/webhook-receiver.js';
import { recordFigures } from './helpers/figures.js';
import { LONE_SURROGATES, NASTY_CHARS, OTHER_HOSTILE, SEARCH_SYNTAX, SQL_INJECTIONS } from './helpers/hostile-strings.js';

interface Entry {
  id: string;
  seq: number;
  action: string;
  description: string;
  actor: { type: string; id: string | null; name: string | null };
  resource: { type: string; id: string; name: string | null };
}

const PAYLOADS = [...SQL_INJECTIONS, ...SEARCH_SYNTAX, ...OTHER_HOSTILE.filter((s) => !s.includes('\u0000'))];
const INJECTION_RUNS = Number(process.env.FUZZ_RUNS ?? 120);

/** The string as any client sends it over the wire: halves of surrogate pairs become U+FFFD. */
const wellFormed = (s: string): string => s.replace(/\p{Cs}/gu, '\ufffd');

/** Words as a search sees them: NFKC, lower case, runs of letters and digits, accents dropped. */
const words = (s: string | null): string[] =>
  (s ?? '').normalize('NFKC').toLowerCase().normalize('NFD').replace(/\p{M}+/gu, '').split(/[^\p{L}\p{N}]+/u).filter(Boolean);

/** Whether every word of `q` starts a word of the entry's searchable text (what `q` promises). */
function matchesSearch(e: Entry, q: string): boolean {
  const text = [e.action, e.actor.name, e.description, e.resource.name, e.resource.id].flatMap(words);
  return words(q).every((w) => text.some((t) => t.startsWith(w)));
}

async function listAll(t: TestApp, caller: Caller, query: string): Promise<{ status: number; items: Entry[]; body: string }> {
  const res = await t.request(caller, 'GET', `/api/audit?limit=1000&${query}`);
  return { status: res.statusCode, items: res.statusCode === 200 ? (res.json() as { items: Entry[] }).items : [], body: res.body };
}

for (const backend of BACKENDS) {
  describe(`SQL and search-syntax injection in q and the filters (${backend})`, () => {
    let t: TestApp;
    let reader: Caller;
    let corpus = 0;
    beforeAll(async () => {
      t = await buildTestApp(backend);
      const writer = await t.token(['audit:write', 'audit:read'], 'injector');
      reader = writer;
      // Entries whose names are the payloads themselves: a filter equal to one must find exactly it.
      const events = PAYLOADS.map((p, i) => ({ action: 'sync.completed', resource: { type: 'sync_job', id: `inj-${i}`, name: p }, actor: { type: 'worker', name: p }, details: SAMPLE_DETAILS['sync.completed'] }));
      events.push({ action: 'rotation.started', resource: { type: 'secret', id: 'db-password', name: 'billing database password' }, actor: { type: 'worker', name: 'rotation-worker' }, details: SAMPLE_DETAILS['rotation.started'] });
      const res = await t.request(writer, 'POST', '/api/audit/events', { events });
      expect(res.statusCode, res.body).toBe(201);
      corpus = events.length;
    });
    afterAll(async () => {
      await t?.close();
    });

    const check = async (param: 'q' | 'actor' | 'resource' | 'action', value: string): Promise<string[]> => {
      const problems: string[] = [];
      const { status, items, body } = await listAll(t, reader, `${param}=${encodeURIComponent(wellFormed(value))}`);
      if (status !== 200 && status !== 400) problems.push(`${param}=${JSON.stringify(value)}: ${status} ${body.slice(0, 200)}`);
      if (/SQLITE_|syntax error|tsquery|fts5|SELECT |relation "/i.test(status === 400 ? body.replace(value, '') : '')) problems.push(`${param}=${JSON.stringify(value)}: internals in ${body.slice(0, 200)}`);
      const v = wellFormed(value);
      for (const e of items) {
        const ok =
          param === 'q' ? matchesSearch(e, v)
          : param === 'actor' ? e.actor.name === v || e.actor.id === v
          : param === 'resource' ? [e.resource.type, e.resource.id, e.resource.name].includes(v)
          : v === '*' || e.action === v || (v.endsWith('.*') && e.action.startsWith(v.slice(0, -1)));
        if (!ok) problems.push(`${param}=${JSON.stringify(value)} returned seq ${e.seq} (${e.action}, actor ${JSON.stringify(e.actor.name)}, resource ${JSON.stringify(e.resource.name)}), which does not match`);
      }
      return problems;
    };

    it('binds every payload as data: exact filters find exactly the entry named by it, and nothing is interpreted', async () => {
      const problems: string[] = [];
      for (const [i, p] of PAYLOADS.entries()) {
        for (const param of ['q', 'actor', 'resource', 'action'] as const) problems.push(...(await check(param, p)));
        const exact = await listAll(t, reader, `resource=${encodeURIComponent(p)}`);
        if (!exact.items.some((e) => e.resource.id === `inj-${i}`)) problems.push(`resource=${JSON.stringify(p)} did not find the entry named by it`);
        const byActor = await listAll(t, reader, `actor=${encodeURIComponent(p)}`);
        if (!byActor.items.some((e) => e.resource.id === `inj-${i}`)) problems.push(`actor=${JSON.stringify(p)} did not find the entry made by it`);
      }
      expect(problems).toEqual([]);
    });

    it('answers random search and filter text over the hostile alphabet with 200 or 400 and only matching entries (property)', async () => {
      let cases = 0;
      const text = fc.oneof(
        fc.string({ unit: fc.constantFrom(...NASTY_CHARS, ...LONE_SURROGATES, 'rot', 'sync', 'OR', 'AND', 'NOT', 'NEAR', '*', ':', '"', "'", ' '), minLength: 1, maxLength: 30 }),
        fc.string({ unit: 'binary', minLength: 1, maxLength: 30 }),
        fc.constantFrom(...PAYLOADS),
      );
      await fc.assert(
        fc.asyncProperty(fc.constantFrom('q', 'actor', 'resource', 'action') as fc.Arbitrary<'q' | 'actor' | 'resource' | 'action'>, text, async (param, value) => {
          cases += 1;
          const problems = await check(param, value);
          if (problems.length > 0) throw new Error(problems.join('\n'));
        }),
        { numRuns: INJECTION_RUNS },
      );
      // Nothing was dropped, altered or added by any of it.
      const total = (await t.request(reader, 'GET', '/api/audit?limit=1&include_total=true').then((r) => r.json())) as { total: { count: number } };
      expect(total.total.count).toBeGreaterThanOrEqual(corpus);
      expect(await verifyStoredChain(t.core.auditStore)).toMatchObject({ ok: true });
      expect((await t.login('admin', ADMIN_PASSWORD)).headers.cookie).toMatch(/^trailmark_session=/);
      recordFigures(`injection-${backend}`, { fuzz_cases: cases + PAYLOADS.length * 6 }, { payloads: PAYLOADS.length });
    });
  });

  describe(`oversized and deeply nested bodies (${backend})`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await buildTestApp(backend);
    });
    afterAll(async () => {
      await t?.close();
    });

    it('refuses bodies over the limit with 413 and nesting past the limit with 400 on every write route, storing nothing', async () => {
      const writer = await t.token(['audit:write'], 'big');
      const head = (await t.core.auditStore.chainState()).head.seq;
      const users = (await t.request(t.admin, 'GET', '/api/users').then((r) => r.json())) as { users: unknown[] };
      const blob = 'x'.repeat(5 * 1024 * 1024 + 1);
      const oversized: Array<[Caller, string, string, unknown]> = [
        [writer, 'POST', '/api/audit/events', { events: [{ action: 'sync.completed', resource: { type: 'sync_job', id: 'big' }, details: { ...SAMPLE_DETAILS['sync.completed'], blob } }] }],
        [t.admin, 'POST', '/api/users', { username: 'big', password: blob, role: 'viewer' }],
        [t.admin, 'PUT', '/api/settings', { tenant_name: blob }],
        [t.admin, 'POST', '/api/alert-rules', { name: blob, event_types: ['*'], channel: { type: 'webhook', url: 'http://127.0.0.1:9/x' } }],
        [ANONYMOUS, 'POST', '/api/auth/login', { username: 'admin', password: blob }],
      ];
      for (const [caller, method, url, body] of oversized) {
        const res = await t.request(caller, method, url, body);
        expect({ url, status: res.statusCode, code: (res.json() as { error: { code: string } }).error.code }).toEqual({ url, status: 413, code: 'payload_too_large' });
      }
      for (const [depth, asArray] of [[9, false], [9, true], [64, false], [100_000, true], [100_000, false]] as const) {
        // Written out by hand: JSON.stringify itself recurses and would overflow on the deepest.
        const nested = asArray ? `${'['.repeat(depth)}1${']'.repeat(depth)}` : `${'{"n":'.repeat(depth)}1${'}'.repeat(depth)}`;
        const body = `{"events":[{"action":"sync.completed","resource":{"type":"sync_job","id":"deep-${depth}"},"details":{"synced_count":1,"duration_ms":2,"nested":${nested}}}]}`;
        const res = await t.request(writer, 'POST', '/api/audit/events', body, { 'content-type': 'application/json' });
        expect({ depth, asArray, status: res.statusCode }).toEqual({ depth, asArray, status: 400 });
      }
      const many = await t.request(writer, 'POST', '/api/audit/events', { events: Array.from({ length: 1001 }, (_, i) => ({ action: 'sync.completed', resource: { type: 'sync_job', id: `m-${i}` }, details: SAMPLE_DETAILS['sync.completed'] })) });
      expect(many.statusCode).toBe(400);
      const wide = await t.request(writer, 'POST', '/api/audit/events', { events: [{ action: 'sync.completed', resource: { type: 'sync_job', id: 'wide' }, details: { ...SAMPLE_DETAILS['sync.completed'], ...Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`, 'v'.repeat(8)])) } }] });
      expect(wide.statusCode).toBe(400);
      // Only the token creation above was recorded.
      expect((await t.core.auditStore.chainState()).head.seq).toBe(head);
      expect(((await t.request(t.admin, 'GET', '/api/users').then((r) => r.json())) as { users: unknown[] }).users).toHaveLength(users.users.length);
      recordFigures(`limits-${backend}`, { fuzz_cases: oversized.length + 6 });
    });
  });

  describe(`text that is not well-formed Unicode, or holds NUL (${backend})`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await buildTestApp(backend);
    });
    afterAll(async () => {
      await t?.close();
    });

    // JSON may carry "\ud800" (half a surrogate pair) and "\u0000"; neither fits a UTF-8 text
    // column the way JavaScript holds it. Whatever Trailmark does with them (refuse with 400,
    // or store a replacement), the chain must still verify and nobody else's request may fail.
    it('never breaks the chain, never answers 5xx, and never fails the other events of the same group commit', async () => {
      const writer = await t.token(['audit:write'], 'odd-text');
      const problems: string[] = [];
      const bad = [...LONE_SURROGATES, 'a\u0000b', `x${LONE_SURROGATES[0]}\u0000`];
      const FIELD_NAMES = ['resource.name', 'resource.id', 'resource.type', 'actor.name and actor.id', 'details.note'];
      const fields: Array<(v: string) => Record<string, unknown>> = [
        (v) => ({ action: 'sync.completed', resource: { type: 'sync_job', id: 'r', name: v }, details: SAMPLE_DETAILS['sync.completed'] }),
        (v) => ({ action: 'sync.completed', resource: { type: 'sync_job', id: v }, details: SAMPLE_DETAILS['sync.completed'] }),
        (v) => ({ action: 'sync.completed', resource: { type: v, id: 'r' }, details: SAMPLE_DETAILS['sync.completed'] }),
        (v) => ({ action: 'sync.completed', resource: { type: 'sync_job', id: 'r' }, actor: { type: 'worker', name: v, id: v }, details: SAMPLE_DETAILS['sync.completed'] }),
        (v) => ({ action: 'sync.completed', resource: { type: 'sync_job', id: 'r' }, details: { ...SAMPLE_DETAILS['sync.completed'], note: v } }),
      ];
      /** Verifies only what was appended since `from`, so each request is judged on its own. */
      const appendedVerify = async (from: { seq: number; hash: string }): Promise<string | null> => {
        const { head } = await t.core.auditStore.chainState();
        const verifier = new ChainVerifier(from);
        for await (const e of t.core.auditStore.iterate({}, { fromSeq: from.seq + 1, toSeq: head.seq })) if (!verifier.push(e)) break;
        const v = verifier.finish(head);
        return v.ok ? null : `seq ${v.first_bad_seq}: ${v.reason}`;
      };
      let cases = 0;
      for (const v of bad) {
        for (const [f, make] of fields.entries()) {
          cases += 1;
          const from = (await t.core.auditStore.chainState()).head;
          const good = { action: 'sync.completed', resource: { type: 'sync_job', id: `bystander-${f}` }, details: SAMPLE_DETAILS['sync.completed'] };
          // Sent in the same event-loop turn, so both land in one group commit.
          const [odd, bystander] = await Promise.all([
            t.request(writer, 'POST', '/api/audit/events', { events: [make(v)] }),
            t.request(writer, 'POST', '/api/audit/events', { events: [good] }),
          ]);
          const label = `event field ${FIELD_NAMES[f]} = ${JSON.stringify(v)}`;
          if (odd.statusCode !== 201 && odd.statusCode !== 400) problems.push(`${label}: answered ${odd.statusCode} ${odd.body.slice(0, 120)}`);
          if (bystander.statusCode !== 201) problems.push(`${label}: an ordinary event in the same group commit got ${bystander.statusCode}`);
          const broken = await appendedVerify(from);
          if (broken) problems.push(`${label}: the entry no longer verifies (${broken})`);
        }
        cases += 1;
        const from = (await t.core.auditStore.chainState()).head;
        const login = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: `evil${v}`, password: 'whatever-password' } });
        if (login.statusCode !== 401 && login.statusCode !== 400) problems.push(`sign-in as ${JSON.stringify(`evil${v}`)}: answered ${login.statusCode}`);
        const broken = await appendedVerify(from);
        if (broken) problems.push(`an anonymous sign-in attempt as ${JSON.stringify(`evil${v}`)} recorded an entry that does not verify (${broken})`);
        cases += 1;
        const filter = await t.request(t.admin, 'GET', `/api/audit?resource=${encodeURIComponent(wellFormed(v))}`);
        if (filter.statusCode !== 200 && filter.statusCode !== 400) problems.push(`filter resource=${JSON.stringify(wellFormed(v))}: answered ${filter.statusCode}`);
      }
      recordFigures(`odd-text-${backend}`, { fuzz_cases: cases });
      expect(problems).toEqual([]);
    });
  });
}

describe('header injection in webhook rules', () => {
  let t: TestApp;
  let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
  beforeAll(async () => {
    t = await buildTestApp('sqlite');
    receiver = await startWebhookReceiver();
  });
  afterAll(async () => {
    await receiver?.close();
    await t?.close();
  });

  const create = (headers: Record<string, string>) => t.request(t.admin, 'POST', '/api/alert-rules', { name: 'hdr', event_types: ['auth.*'], channel: { type: 'webhook', url: receiver.url, headers } });

  it('refuses CR, LF, NUL and other control characters in header values, bad header names and Trailmark’s own headers, at creation and on change', async () => {
    const ruleCount = async (): Promise<number> => ((await t.request(t.admin, 'GET', '/api/alert-rules')).json() as { rules: unknown[] }).rules.length;
    const before = await ruleCount();
    const head = (await t.core.auditStore.chainState()).head.seq;
    const refused: Array<Record<string, string>> = [
      { 'X-Api-Key': 'v\r\nX-Injected: 1' },
      { 'X-Api-Key': 'v\nX-Injected: 1' },
      { 'X-Api-Key': 'v\rX-Injected: 1' },
      { 'X-Api-Key': 'v\u0000' },
      { 'X-Api-Key': '\u001b[31m' },
      { 'X-Api-Key': 'v\u007f' },
      { 'X Api': 'v' },
      { 'X-Api:': 'v' },
      { 'X-Api\r\nX-Injected': 'v' },
      { '': 'v' },
      { 'X-Ä': 'v' },
      { Host: 'evil.example' },
      { 'Content-Length': '0' },
      { 'Transfer-Encoding': 'chunked' },
      { 'X-Trailmark-Signature': 't=1,v1=forged' },
      { 'X-Trailmark-Delivery': 'forged' },
    ];
    const problems: string[] = [];
    for (const headers of refused) {
      const res = await create(headers);
      if (res.statusCode !== 400) problems.push(`creating with ${JSON.stringify(headers)} answered ${res.statusCode}`);
    }
    const ok = await create({ 'X-Api-Key': 'fine' });
    expect(ok.statusCode, ok.body).toBe(201);
    const id = (ok.json() as { id: string }).id;
    for (const headers of refused) {
      const res = await t.request(t.admin, 'PATCH', `/api/alert-rules/${id}`, { channel: { headers } });
      if (res.statusCode !== 400) problems.push(`changing to ${JSON.stringify(headers)} answered ${res.statusCode}`);
    }
    expect(problems).toEqual([]);
    expect(await ruleCount()).toBe(before + 1);
    // Only the one accepted rule was audited.
    expect((await t.core.auditStore.chainState()).head.seq).toBe(head + 1);
    const shown = (await t.request(t.admin, 'GET', `/api/alert-rules/${id}`)).json() as { channel: { header_names: string[] } };
    expect(shown.channel.header_names).toEqual(['X-Api-Key']);
  });

  it('delivers an accepted rule’s headers exactly as given and nothing more (property)', async () => {
    const baseline = await create({});
    const baseId = (baseline.json() as { id: string }).id;
    receiver.calls.length = 0;
    await t.request(t.admin, 'POST', `/api/alert-rules/${baseId}/test`);
    const ownHeaders = new Set(Object.keys(receiver.calls[0]?.headers ?? {}));
    expect(ownHeaders.has('x-trailmark-delivery')).toBe(true);
    let cases = 0;
    const name = fc.string({ unit: fc.constantFrom(...'abcXYZ-_.!#$%&*+^`|~019: \r\n\t"(),/;<=>?@[\\]{}\u00e4\u0000'), minLength: 1, maxLength: 12 });
    const value = fc.string({ unit: fc.constantFrom(...NASTY_CHARS, ...LONE_SURROGATES, 'a', 'b', ' ', '\u00e9', '管'), maxLength: 16 });
    await fc.assert(
      fc.asyncProperty(name, value, async (n, v) => {
        cases += 1;
        const res = await create({ [n]: v });
        if (res.statusCode === 400) return;
        if (res.statusCode !== 201) throw new Error(`answered ${res.statusCode}: ${res.body}`);
        const id = (res.json() as { id: string }).id;
        receiver.calls.length = 0;
        const test = await t.request(t.admin, 'POST', `/api/alert-rules/${id}/test`);
        const got = receiver.calls[0];
        await t.request(t.admin, 'DELETE', `/api/alert-rules/${id}`);
        if (!got) throw new Error(`rule with header ${JSON.stringify(n)}: ${JSON.stringify(v)} was accepted, but its deliveries cannot be sent (${test.body.slice(0, 200)})`);
        const extra = Object.keys(got.headers).filter((h) => !ownHeaders.has(h) && h !== n.toLowerCase());
        if (extra.length > 0) throw new Error(`delivery carried headers nobody configured: ${extra.join(', ')}`);
        if (got.headers[n.toLowerCase()] !== v.replace(/^[ \t]+|[ \t]+$/g, '')) throw new Error(`header ${n} arrived as ${JSON.stringify(got.headers[n.toLowerCase()])}, not ${JSON.stringify(v)}`);
      }),
      // Always tried first: values a header cannot carry (not ISO-8859-1), which must be refused or delivered.
      { numRuns: INJECTION_RUNS, examples: [['X-Api-Key', '管理'], ['X-Api-Key', 'a\ud800'], ['X-Api-Key', 'caf\u00e9']] },
    );
    recordFigures('webhook-headers', { fuzz_cases: cases + 32 });
  });
});

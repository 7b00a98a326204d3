import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_DEFINITIONS } from '../../src/catalog/event-definitions.js';
import { SAMPLE_DETAILS } from '../support/audit-fixtures.js';
import { BACKENDS } from '../support/backends.js';
import { ANONYMOUS, buildTestApp } from '../support/test-app.js';
import type { Caller, TestApp } from '../support/test-app.js';

interface Entry {
  id: string; seq: number; ts: string; action: string; severity: string; category: string;
  actor: { type: string; id: string | null; name: string | null }; resource: { type: string; id: string; name: string | null };
  details: Record<string, unknown>; source: { token_id: string | null }; description: string; hash: string; prev_hash: string;
}
interface Page { items: Entry[]; next_cursor: string | null; total?: { count: number; capped: boolean } }

for (const backend of BACKENDS) {
  describe(`audit API (${backend})`, () => {
    let t: TestApp;
    let writer: Caller;
    let reader: Caller;
    let posted: Array<{ id: string; seq: number; hash: string }>;

    const list = async (query: string, caller = reader): Promise<Page> => {
      const res = await t.request(caller, 'GET', `/api/audit?${query}`);
      expect(res.statusCode, res.body).toBe(200);
      return res.json() as Page;
    };
    const entriesOf = async (query: string): Promise<Entry[]> => (await list(`${query}&limit=1000&actor=scanner`)).items;

    beforeAll(async () => {
      t = await buildTestApp(backend);
      writer = await t.token(['audit:write'], 'scanner');
      reader = await t.token(['audit:read'], 'siem');
      const events = EVENT_DEFINITIONS.map((d, i) => ({
        action: d.action,
        resource: { type: d.resourceType, id: `res-${i}`, name: `${d.category}-thing-${i}` },
        details: SAMPLE_DETAILS[d.action],
        ts: new Date(Date.now() - 60_000).toISOString(),
      }));
      const res = await t.request(writer, 'POST', '/api/audit/events', { events });
      expect(res.statusCode, res.body).toBe(201);
      posted = (res.json() as { entries: typeof posted }).entries;
    });

    afterAll(async () => {
      await t.close();
    });

    it('stores every catalog action posted by a worker token, in order', async () => {
      expect(posted).toHaveLength(EVENT_DEFINITIONS.length);
      const items = await entriesOf('');
      expect(items.map((e) => e.action).reverse()).toEqual(EVENT_DEFINITIONS.map((d) => d.action));
      for (const e of items) {
        expect(e.actor).toMatchObject({ type: 'worker', name: 'scanner' });
        expect(e.source.token_id).toBe(e.actor.id);
        expect(e.ts).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
        expect(e.severity).toBe(EVENT_DEFINITIONS.find((d) => d.action === e.action)!.severity);
        expect(e.details).toEqual(SAMPLE_DETAILS[e.action]);
      }
    });

    it('finds every action by exact filter, by its category wildcard, and by search', async () => {
      for (const d of EVENT_DEFINITIONS) {
        expect((await entriesOf(`action=${d.action}`)).map((e) => e.action)).toEqual([d.action]);
        expect((await entriesOf(`action=${d.category}.*`)).map((e) => e.action)).toContain(d.action);
      }
      const failed = await entriesOf('action=rotation.failed&action=sync.*');
      expect(failed.map((e) => e.action).sort()).toEqual(['rotation.failed', 'sync.completed', 'sync.failed', 'sync.started']);
      expect((await entriesOf('q=rotation.failed')).map((e) => e.action)).toEqual(['rotation.failed']);
      expect((await entriesOf('q=vault%20unreachable')).map((e) => e.action)).toEqual(['rotation.failed']);
      expect((await entriesOf('q=sync-thing')).every((e) => e.category === 'sync')).toBe(true);
    });

    it('filters by severity, resource, actor type, actor and time', async () => {
      const errors = await entriesOf('severity=error');
      expect(errors.length).toBe(EVENT_DEFINITIONS.filter((d) => d.severity === 'error').length);
      const mixed = await entriesOf('severity=critical&severity=warning');
      expect(new Set(mixed.map((e) => e.severity))).toEqual(new Set(['critical', 'warning']));
      expect((await entriesOf('resource=res-3')).map((e) => e.resource.id)).toEqual(['res-3']);
      expect((await entriesOf('resource=rotation-thing-15')).map((e) => e.action)).toEqual(['rotation.completed']);
      expect((await entriesOf('resource=sync_job')).length).toBe(3);
      expect((await list('actor_type=worker&limit=1000')).items.length).toBe(EVENT_DEFINITIONS.length);
      expect((await list('actor=nobody')).items).toEqual([]);
      const now = Date.now();
      expect((await entriesOf(`start=${new Date(now - 3_600_000).toISOString()}&end=${new Date(now + 3_600_000).toISOString()}`)).length).toBe(EVENT_DEFINITIONS.length);
      expect((await entriesOf(`end=${new Date(now - 3_600_000).toISOString()}`)).length).toBe(0);
    });

    it('pages newest first with a cursor and oldest first with after, without gaps', async () => {
      const seen: number[] = [];
      let cursor: string | null = '';
      while (cursor !== null) {
        const page: Page = await list(`limit=7${cursor ? `&cursor=${cursor}` : ''}`);
        seen.push(...page.items.map((e) => e.seq));
        cursor = page.next_cursor;
      }
      const total = (await list('limit=1&include_total=true')).total!;
      expect(total.capped).toBe(false);
      expect(seen).toEqual(Array.from({ length: total.count }, (_, i) => total.count - i));

      const res = await t.request(reader, 'GET', '/api/audit?after=0&limit=5&action=rotation.*');
      const first = res.json() as Page;
      expect(first.items.map((e) => e.action)).toEqual(['rotation.started', 'rotation.completed', 'rotation.failed']);
      expect(res.headers.link).toBe(`</api/audit?after=${first.next_cursor}&limit=5&action=rotation.*>; rel="next"`.replace('rotation.*', 'rotation.*'));
      const next = await list(`after=${first.next_cursor}&limit=5&action=rotation.*`);
      expect(next.items).toEqual([]);
      expect(next.next_cursor).toBe(first.next_cursor);
    });

    it('reads one entry by id, and 404s an unknown one', async () => {
      const res = await t.request(reader, 'GET', `/api/audit/${posted[3]!.id}`);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ id: posted[3]!.id, seq: posted[3]!.seq, hash: posted[3]!.hash });
      const missing = await t.request(reader, 'GET', '/api/audit/00000000-0000-7000-8000-000000000000');
      expect(missing.statusCode).toBe(404);
      expect(missing.json()).toMatchObject({ error: { code: 'not_found' } });
    });

    it('refuses a batch with one bad event, naming index and field, storing nothing', async () => {
      const before = (await list('limit=1&include_total=true')).total!.count;
      const good = { action: 'sync.started', resource: { type: 'sync_job', id: 's' }, details: SAMPLE_DETAILS['sync.started'] };
      const cases: Array<[unknown, string]> = [
        [{ events: [good, { ...good, action: 'sync.exploded' }] }, 'events[1].action'],
        [{ events: [good, good, { ...good, details: { source: 'a', target: 'b' } }] }, 'events[2].details.secret_count'],
        [{ events: [{ ...good, details: { ...SAMPLE_DETAILS['sync.started'], secret_count: -1 } }] }, 'events[0].details.secret_count'],
        [{ events: [{ ...good, resource: { id: 's' } }] }, 'body.events.0.resource'],
        [{ events: [{ ...good, actor: { type: 'user', name: 'alice' } }] }, 'body.events.0.actor.type'],
        [{ events: [{ ...good, ts: new Date(Date.now() + 86_400_000).toISOString() }] }, 'events[0].ts'],
        [{ events: [] }, 'body.events'],
        [{ events: Array.from({ length: 1001 }, () => good) }, 'body.events'],
      ];
      for (const [body, field] of cases) {
        const res = await t.request(writer, 'POST', '/api/audit/events', body);
        expect(res.statusCode, JSON.stringify(body).slice(0, 200)).toBe(400);
        const err = (res.json() as { error: { code: string; message: string; details: { field: string } } }).error;
        expect(err.code).toBe('validation_failed');
        expect(err.details.field.startsWith(field), `${err.details.field} vs ${field}`).toBe(true);
      }
      expect((await list('limit=1&include_total=true')).total!.count).toBe(before);
    });

    it('answers bad queries with 400 naming the parameter', async () => {
      for (const [query, field] of [
        ['start=yesterday', 'querystring.start'],
        ['limit=0', 'querystring.limit'],
        ['limit=1001', 'querystring.limit'],
        ['action=nope.*', 'querystring.action'],
        ['severity=fatal', 'querystring.severity'],
        ['cursor=abc', 'querystring.cursor'],
        ['cursor=5&after=1', 'querystring.after'],
        ['q=%20%2B%2B%20', 'querystring.q'],
        ['start=2026-02-01T00:00:00Z&end=2026-01-01T00:00:00Z', 'querystring.start'],
        ['bogus=1', 'querystring'],
      ]) {
        const res = await t.request(reader, 'GET', `/api/audit?${query}`);
        expect(res.statusCode, query).toBe(400);
        expect((res.json() as { error: { details: { field: string } } }).error.details.field.startsWith(field!), query).toBe(true);
      }
    });

    it('treats search syntax as plain words', async () => {
      for (const q of ['"', 'a OR b', "'; DROP TABLE audit_entries; --", 'NEAR(a b)', 'x:* & !y', '*', 'rotation AND']) {
        const res = await t.request(reader, 'GET', `/api/audit?q=${encodeURIComponent(q)}`);
        expect([200, 400], q).toContain(res.statusCode);
        expect(res.body).not.toMatch(/sqlite|syntax|SELECT|stack/i);
      }
      expect((await list('limit=1&include_total=true')).total!.count).toBeGreaterThan(0);
    });

    it('serves the catalog with a JSON Schema per action', async () => {
      const res = await t.request(reader, 'GET', '/api/audit/catalog');
      const body = res.json() as { actions: Array<{ action: string; severity: string; details_schema: { required: string[] } }> };
      expect(body.actions.map((a) => a.action)).toEqual(EVENT_DEFINITIONS.map((d) => d.action));
      expect(body.actions.find((a) => a.action === 'auth.account.locked')).toMatchObject({ severity: 'critical', details_schema: { required: ['username', 'attempt_count'] } });
      expect(body.actions.find((a) => a.action === 'auth.login.failed')!.severity).toBe('warning');
    });

    it('verifies the stored chain (admin) and records the check', async () => {
      const res = await t.request(t.admin, 'GET', '/api/audit/verify');
      expect(res.statusCode).toBe(200);
      const body = res.json() as { ok: boolean; checked: number; to_seq: number };
      expect(body.ok).toBe(true);
      expect(body.checked).toBe(body.to_seq);
      const recorded = await t.request(t.admin, 'GET', '/api/audit?action=audit.chain.verified&actor=admin');
      expect((recorded.json() as Page).items[0]!.details).toMatchObject({ entry_count: body.checked, to_seq: body.to_seq });
    });

    it('refuses callers without the right role, scope or CSRF token', async () => {
      const viewer = await t.userWithRole('viewer');
      const cases: Array<[Caller, string, string, unknown, number]> = [
        [ANONYMOUS, 'GET', '/api/audit', undefined, 401],
        [ANONYMOUS, 'POST', '/api/audit/events', { events: [] }, 401],
        [{ label: 'bad token', headers: { authorization: 'Bearer tm_nope' } }, 'GET', '/api/audit', undefined, 401],
        [reader, 'POST', '/api/audit/events', { events: [] }, 403],
        [writer, 'GET', '/api/audit', undefined, 403],
        [viewer, 'GET', '/api/audit/verify', undefined, 403],
        [reader, 'GET', '/api/audit/verify', undefined, 403],
        [viewer, 'POST', '/api/audit/events', { events: [] }, 403],
        [viewer, 'POST', '/api/tokens', { name: 'x', scopes: ['audit:read'] }, 403],
        [{ label: 'admin without csrf', headers: { cookie: t.admin.headers.cookie! } }, 'POST', '/api/tokens', { name: 'x', scopes: ['audit:read'] }, 403],
      ];
      for (const [caller, method, url, body, status] of cases) {
        const res = await t.request(caller, method, url, body);
        expect(res.statusCode, `${caller.label} ${method} ${url}`).toBe(status);
        expect(Object.keys(res.json() as object)).toEqual(['error']);
      }
      expect((await t.request(viewer, 'GET', '/api/audit?limit=1')).statusCode).toBe(200);
    });
  });
}

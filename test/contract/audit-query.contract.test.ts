import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredEntry } from '../../src/audit/audit-entry.js';
import type { RecordInput } from '../../src/audit/audit-recorder.js';
import { countsBySeqRange, pageStatement } from '../../src/audit/audit-filter-sql.js';
import type { AuditFilter } from '../../src/audit/audit.store.js';
import type { Severity } from '../../src/catalog/event-definitions.js';
import { SAMPLE_DETAILS } from '../support/audit-fixtures.js';
import { BACKENDS } from '../support/backends.js';
import { openTestStore } from '../support/test-store.js';
import type { TestStore } from '../support/test-store.js';
import { prng } from '../support/prng.js';

/**
 * Pages and counts of the optimized queries (seq-range windows, one branch per alternative of
 * `resource`/`actor`/`action`/`severity`) against a naive filter over the stored entries.
 * Values are shared between columns on purpose (`shared` is a resource type, id and name, and
 * an actor id and name) so one entry can match a filter through several columns at once.
 */
const ACTIONS = ['rotation.started', 'rotation.failed', 'rotation.completed', 'sync.started', 'auth.login.failed', 'user.created'];
const SEVERITIES: Severity[] = ['info', 'warning', 'error', 'critical'];
const ACTOR_IDS = ['a-1', 'a-2', 'shared', null];
const ACTOR_NAMES = ['alice', 'bob', 'shared', 'a-1', null];
const RESOURCE_TYPES = ['secret', 'vault', 'shared'];
const RESOURCE_IDS = ['r-1', 'r-2', 'shared', 'vault'];
const RESOURCE_NAMES = ['billing key', 'shared', 'r-1', null];
const WORDS = ['rotation', 'fail', 'shared', 'billing', 'alice'];
const T0 = Date.UTC(2026, 10, 24, 12, 0, 0);

function randomEvent(rand: () => number): RecordInput {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const action = pick(ACTIONS);
  return {
    action,
    actor: { type: pick(['user', 'worker', 'system'] as const), id: pick(ACTOR_IDS), name: pick(ACTOR_NAMES) },
    resource: { type: pick(RESOURCE_TYPES), id: pick(RESOURCE_IDS), name: pick(RESOURCE_NAMES) },
    details: SAMPLE_DETAILS[action]!,
  };
}

/** The filter as the plain predicate it means, except search (see `expected`). */
function naiveMatch(e: StoredEntry, f: AuditFilter): boolean {
  return (
    (f.start === undefined || e.ts >= f.start) &&
    (f.end === undefined || e.ts <= f.end) &&
    (f.actions === undefined || f.actions.length === 0 || f.actions.includes(e.action)) &&
    (f.actor === undefined || e.actor.name === f.actor || e.actor.id === f.actor) &&
    (f.actorType === undefined || e.actor.type === f.actorType) &&
    (f.severities === undefined || f.severities.length === 0 || f.severities.includes(e.severity)) &&
    (f.resource === undefined || e.resource.type === f.resource || e.resource.id === f.resource || e.resource.name === f.resource)
  );
}

for (const backend of BACKENDS) {
  describe(`audit queries match a naive filter (${backend})`, () => {
    let t: TestStore;
    let stored: StoredEntry[] = [];
    /** Seqs each search (tokens joined by a space) matches, read the unoptimized way. */
    const searchHits = new Map<string, Set<number>>();

    const expected = (f: AuditFilter): number[] => {
      const hits = f.searchTokens && f.searchTokens.length > 0 ? searchHits.get(f.searchTokens.join(' ')) : undefined;
      return stored.filter((e) => naiveMatch(e, f) && (hits === undefined || hits.has(e.seq))).map((e) => e.seq);
    };

    const walkNewest = async (f: AuditFilter, limit: number): Promise<number[]> => {
      const seen: number[] = [];
      let before: number | undefined;
      for (let i = 0; i < 1000; i++) {
        const page = await t.store.page(f, { order: 'newest', limit, beforeSeq: before });
        expect(page.items.length).toBeLessThanOrEqual(limit);
        seen.push(...page.items.map((e) => e.seq));
        if (page.nextSeq === null) return seen;
        expect(page.items).toHaveLength(limit);
        before = page.nextSeq;
      }
      throw new Error('paging did not end');
    };

    const walkOldest = async (f: AuditFilter, limit: number, after: number): Promise<number[]> => {
      const seen: number[] = [];
      for (let i = 0; i < 1000; i++) {
        const page = await t.store.page(f, { order: 'oldest', limit, afterSeq: after });
        seen.push(...page.items.map((e) => e.seq));
        if (page.items.length === 0) {
          expect(page.nextSeq).toBe(after);
          return seen;
        }
        after = page.nextSeq!;
      }
      throw new Error('paging did not end');
    };

    beforeAll(async () => {
      t = await openTestStore(backend);
      t.clock.set(T0);
      const rand = prng(20261124);
      // Batches share one ts; gaps between them vary from none to days; the clock sometimes
      // steps back (ts then stays put). Windows can therefore start and end inside a burst.
      for (let batch = 0; batch < 40; batch++) {
        const size = 1 + Math.floor(rand() * 8);
        stored.push(...(await t.recorder.recordBatch(Array.from({ length: size }, () => randomEvent(rand)))));
        const step = rand();
        t.clock.advance(step < 0.1 ? -60_000 : step < 0.3 ? 0 : step < 0.9 ? Math.floor(rand() * 3_600_000) : 2 * 86_400_000);
      }
      stored = stored.sort((a, b) => b.seq - a.seq);
      for (const words of [...WORDS.map((w) => [w]), ['rotation', 'fail'], ['shared', 'alice']]) {
        const hits = new Set<number>();
        for await (const e of t.store.iterate({ searchTokens: words })) hits.add(e.seq);
        searchHits.set(words.join(' '), hits);
      }
    });

    afterAll(async () => {
      await t.close();
    });

    const timeArb = (): fc.Arbitrary<number> =>
      fc.oneof(
        fc.constantFrom(...stored.map((e) => e.ts)),
        fc.tuple(fc.constantFrom(...stored.map((e) => e.ts)), fc.integer({ min: -2, max: 2 })).map(([ts, d]) => ts + d),
        fc.integer({ min: T0 - 86_400_000, max: T0 + 30 * 86_400_000 }),
      );

    const filterArb = (): fc.Arbitrary<AuditFilter> =>
      fc
        .record(
          {
            start: timeArb(),
            end: timeArb(),
            actions: fc.uniqueArray(fc.constantFrom(...ACTIONS), { minLength: 1, maxLength: 4 }),
            actor: fc.constantFrom(...ACTOR_IDS.filter((v) => v !== null), ...ACTOR_NAMES.filter((v) => v !== null), 'nobody'),
            actorType: fc.constantFrom('user' as const, 'worker' as const, 'system' as const),
            severities: fc.uniqueArray(fc.constantFrom(...SEVERITIES), { minLength: 1, maxLength: 3 }),
            resource: fc.constantFrom(...RESOURCE_TYPES, ...RESOURCE_IDS, 'billing key', 'r-1', 'nothing'),
            searchTokens: fc.constantFrom(...[...searchHits.keys()].map((k) => k.split(' '))),
          },
          { requiredKeys: [] },
        )
        .filter((f) => f.start === undefined || f.end === undefined || f.start <= f.end);

    it('pages newest first, oldest first and counts exactly what the naive filter selects', async () => {
      await fc.assert(
        fc.asyncProperty(filterArb(), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 0, max: 40 }), async (f, limit, cap) => {
          const want = expected(f);
          expect(await walkNewest(f, limit)).toEqual(want);
          expect(await walkOldest(f, limit, 0)).toEqual([...want].reverse());
          const from = stored[Math.floor(stored.length / 2)]!.seq;
          expect(await walkOldest(f, limit, from)).toEqual(want.filter((s) => s > from).reverse());
          const total = await t.store.count(f, cap);
          if (countsBySeqRange(f)) expect(total).toEqual({ count: want.length, capped: false });
          else expect(total).toEqual({ count: Math.min(want.length, cap), capped: want.length > cap });
        }),
        { numRuns: 120 },
      );
    });

    it('returns an entry matching several alternatives once (resource type, id and name; actor name and id)', async () => {
      const both = stored.filter((e) => [e.resource.type, e.resource.id, e.resource.name].filter((v) => v === 'shared').length > 1);
      expect(both.length).toBeGreaterThan(0);
      const want = expected({ resource: 'shared' });
      expect(await walkNewest({ resource: 'shared' }, 1000)).toEqual(want);
      expect(await t.store.count({ resource: 'shared' }, 1000)).toEqual({ count: want.length, capped: false });
      const actorWant = expected({ actor: 'shared' });
      expect(stored.some((e) => e.actor.id === 'shared' && e.actor.name === 'shared')).toBe(true);
      expect(await walkNewest({ actor: 'shared' }, 1000)).toEqual(actorWant);
      // 'a-1' is an id of some actors and the name of others.
      expect(await walkNewest({ actor: 'a-1' }, 3)).toEqual(expected({ actor: 'a-1' }));
    });

    it('keeps a filter with more alternatives than it splits into branches as one IN list', async () => {
      const many = { actions: [...ACTIONS.slice(1), ...Array.from({ length: 40 }, (_, i) => `no.such.action${i}`)], start: stored[stored.length - 1]!.ts + 1 };
      const want = expected(many);
      expect(want.length).toBeGreaterThan(0);
      expect(await walkNewest(many, 4)).toEqual(want);
      expect(await t.store.count(many, 1000)).toEqual({ count: want.length, capped: false });
    });

    it('treats time windows whose edges fall between or inside bursts of entries', async () => {
      const times = [...new Set(stored.map((e) => e.ts))].sort((a, b) => a - b);
      for (let i = 1; i < times.length; i++) {
        const [before, at] = [times[i - 1]!, times[i]!];
        if (at - before < 2) continue;
        const between = { start: before + 1, end: at - 1 };
        expect(await walkNewest(between, 5)).toEqual([]);
        expect(await t.store.count(between, 10)).toEqual({ count: 0, capped: false });
        const one = { start: at, end: at };
        expect(await walkNewest(one, 2)).toEqual(expected(one));
        expect(await t.store.count(one, 1)).toEqual({ count: expected(one).length, capped: false });
      }
      const after = { start: times[times.length - 1]! + 1 };
      expect(await walkNewest(after, 5)).toEqual([]);
      expect(await t.store.count(after, 5)).toEqual({ count: 0, capped: false });
      expect(await t.store.count({ end: times[0]! - 1 }, 5)).toEqual({ count: 0, capped: false });
      expect(await t.store.count({}, 5)).toEqual({ count: stored.length, capped: false });
    });
  });

  describe(`audit queries after a retention purge (${backend})`, () => {
    it('counts and pages windows that reach before the anchor', async () => {
      const t = await openTestStore(backend);
      try {
        t.clock.set(T0);
        const rand = prng(7);
        const all: StoredEntry[] = [];
        for (let day = 0; day < 6; day++) {
          all.push(...(await t.recorder.recordBatch(Array.from({ length: 5 }, () => randomEvent(rand)))));
          t.clock.advance(86_400_000);
        }
        const cutoff = T0 + 2 * 86_400_000;
        let purged = 0;
        for (let r = await t.store.purgeBatch(cutoff, 4); r; r = await t.store.purgeBatch(cutoff, 4)) purged += r.removed;
        expect(purged).toBe(10);
        const left = all.filter((e) => e.ts >= cutoff).sort((a, b) => b.seq - a.seq);
        const seqs = (f: AuditFilter): number[] => left.filter((e) => naiveMatch(e, f)).map((e) => e.seq);

        expect(await t.store.count({}, 3)).toEqual({ count: 20, capped: false });
        expect(await t.store.count({ end: cutoff - 1 }, 100)).toEqual({ count: 0, capped: false });
        expect((await t.store.page({ end: cutoff - 1 }, { order: 'newest', limit: 10 })).items).toEqual([]);
        expect(await t.store.count({ start: T0, end: cutoff }, 100)).toEqual({ count: 5, capped: false });
        expect(await t.store.count({ start: T0 }, 100)).toEqual({ count: 20, capped: false });
        const window = { start: T0 - 86_400_000, end: T0 + 3 * 86_400_000 };
        expect((await t.store.page(window, { order: 'newest', limit: 100 })).items.map((e) => e.seq)).toEqual(seqs(window));
        expect((await t.store.page({ ...window, resource: 'shared' }, { order: 'oldest', limit: 100, afterSeq: 0 })).items.map((e) => e.seq)).toEqual(
          seqs({ ...window, resource: 'shared' }).reverse(),
        );
        expect(await t.store.count({ resource: 'shared' }, 100)).toEqual({ count: seqs({ resource: 'shared' }).length, capped: false });
      } finally {
        await t.close();
      }
    });
  });
}

if (BACKENDS.includes('sqlite')) {
  describe('query plans (sqlite)', () => {
    let t: TestStore;
    beforeAll(async () => {
      t = await openTestStore('sqlite');
    });
    afterAll(async () => {
      await t.close();
    });

    const plan = async (filter: AuditFilter): Promise<string[]> => {
      const { sql, params } = pageStatement(filter, { order: 'newest', limit: 50 }, { dialect: t.db.dialect, timePartitioned: false });
      return (await t.db.all<{ detail: string }>(`EXPLAIN QUERY PLAN ${sql}`, params)).map((r) => r.detail);
    };

    it('reads resource, actor and time filters off indexes, never scanning the table', async () => {
      for (const filter of [{ resource: 'kv-prod-03' }, { actor: 'scanner-03' }, { start: T0, end: T0 + 86_400_000 }, { actions: ['rotation.failed'], start: T0 }]) {
        const steps = await plan(filter);
        expect(steps.some((s) => /^SCAN audit_entries\b/.test(s)), `${JSON.stringify(filter)}: ${steps.join('; ')}`).toBe(false);
        expect(steps.some((s) => /USING (COVERING )?INDEX audit_entries_(resource_type|actor_id)|INTEGER PRIMARY KEY|INDEX audit_entries_action/.test(s))).toBe(true);
      }
      // A time window is a seq range: no sorting of the whole window.
      expect((await plan({ start: T0, end: T0 + 86_400_000 })).join('; ')).not.toMatch(/TEMP B-TREE/);
    });
  });
}

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredEntry } from '../../src/audit/audit-entry.js';
import { filterToSql } from '../../src/audit/audit-filter-sql.js';
import type { AuditFilter } from '../../src/audit/audit.store.js';
import type { EntryRow } from '../../src/audit/entry-row.js';
import { ENTRY_SELECT, rowToEntry } from '../../src/audit/entry-row.js';
import { verifyStoredChain } from '../../src/chain/verify-stored-chain.js';
import { buildEvent } from '../support/audit-fixtures.js';
import { BACKENDS } from '../support/backends.js';
import { openTestStore } from '../support/test-store.js';
import type { TestStore } from '../support/test-store.js';

/** Rows per streamed batch in SqlAuditStore (512): the data spans several batches. */
const N = 1_700;

async function collect(it: AsyncIterable<StoredEntry>): Promise<StoredEntry[]> {
  const out: StoredEntry[] = [];
  for await (const e of it) out.push(e);
  return out;
}

for (const backend of BACKENDS) {
  describe(`streamed reads of the audit log (${backend})`, () => {
    let t: TestStore;
    let t0: number;

    /** What the matching entries are, read with one plain query (the meaning `iterate` had as keyset pages). */
    async function reference(filter: AuditFilter, from = 1, to = Number.MAX_SAFE_INTEGER): Promise<StoredEntry[]> {
      const { where, params } = filterToSql(filter, t.db.dialect);
      const rows = await t.db.all<EntryRow>(`SELECT ${ENTRY_SELECT} FROM audit_entries WHERE ${where} AND seq >= ? AND seq <= ? ORDER BY seq`, [...params, from, to]);
      return rows.map(rowToEntry);
    }

    beforeAll(async () => {
      t = await openTestStore(backend);
      t0 = t.clock.now();
      const kinds = [
        () => buildEvent('auth.login.failed', { actor: { type: 'user', id: 'u-1', name: 'mallory' }, resource: { id: 'u-1', name: 'mallory' } }),
        () => buildEvent('rotation.started', { resource: { id: 'sec-1', name: 'db-password' }, occurredAt: t.clock.now() - 5 }),
        () => buildEvent('rotation.failed', { resource: { type: 'secret', id: 'sec-1', name: null } }),
        () => buildEvent('sync.completed', { actor: { type: 'system', id: 'system', name: 'system' }, requestId: 'req-1' }),
      ];
      for (let at = 0; at < N; at += 100) {
        await t.recorder.recordBatch(Array.from({ length: 100 }, (_, i) => kinds[(at + i) % kinds.length]!()));
        t.clock.advance(60_000);
      }
    });

    afterAll(async () => {
      await t.close();
    });

    it('returns exactly the entries a plain query returns, across batch boundaries, for every filter and range', async () => {
      const filters: AuditFilter[] = [
        {}, { actions: ['rotation.started', 'rotation.failed'] }, { actor: 'mallory' }, { actorType: 'system' },
        { severities: ['error', 'warning'] }, { resource: 'sec-1' }, { searchTokens: ['db'] },
        { start: t0 + 5 * 60_000, end: t0 + 12 * 60_000 }, { actions: ['no.such'] },
      ];
      for (const filter of filters) {
        const all = await reference(filter);
        expect(await collect(t.store.iterate(filter)), JSON.stringify(filter)).toEqual(all);
        expect(await collect(t.store.iterate(filter, { fromSeq: 511, toSeq: 1_025 })), JSON.stringify(filter)).toEqual(await reference(filter, 511, 1_025));
      }
      expect((await collect(t.store.iterate({}))).map((e) => e.seq)).toEqual(Array.from({ length: N }, (_, i) => i + 1));
      expect(await collect(t.store.iterate({}, { fromSeq: 512, toSeq: 513 }))).toEqual(await reference({}, 512, 513));
      expect(await collect(t.store.iterate({}, { fromSeq: N + 1 }))).toEqual([]);
    });

    it('reads one snapshot: entries appended or purged while it runs do not change it, and appends are not held up', async () => {
      const before = await reference({});
      const reader = t.store.iterate({})[Symbol.asyncIterator]();
      const first = await reader.next();
      expect(first.value).toEqual(before[0]);
      // The writer is not blocked by the open read (this would time out otherwise).
      await t.recorder.recordBatch([buildEvent(), buildEvent()]);
      const purged = await t.store.purgeBatch(t0 + 3 * 60_000, 10_000);
      expect(purged?.removed).toBeGreaterThan(0);
      const rest: StoredEntry[] = [first.value as StoredEntry];
      for (let r = await reader.next(); !r.done; r = await reader.next()) rest.push(r.value);
      expect(rest).toEqual(before);
      // A read started now sees both changes.
      const after = await collect(t.store.iterate({}));
      expect(after[0]!.seq).toBe(purged!.anchor.seq + 1);
      expect(after.at(-1)!.seq).toBe(N + 2);
      expect(await verifyStoredChain(t.store)).toMatchObject({ ok: true, from_seq: purged!.anchor.seq + 1, to_seq: N + 2 });
    });

    it('readChain gives the state and the rows of the same moment', async () => {
      const read = await t.store.readChain();
      try {
        const { head, anchor } = read.state;
        await t.recorder.recordBatch([buildEvent()]);
        await t.store.purgeBatch(t0 + 6 * 60_000, 10_000);
        const seqs: number[] = [];
        for await (const batch of read.rows({ afterSeq: anchor.seq, toSeq: Number.MAX_SAFE_INTEGER }, 100)) {
          expect(batch.length).toBeLessThanOrEqual(100);
          for (const row of batch) seqs.push(row[0]);
        }
        expect(seqs).toEqual(Array.from({ length: head.seq - anchor.seq }, (_, i) => anchor.seq + 1 + i));
        expect(() => read.rows({ afterSeq: 0, toSeq: 1 }, 10)).toThrow(/once/);
      } finally {
        await read.close();
      }
      expect((await t.store.chainState()).head.seq).toBeGreaterThan(0);
    });

    it('gives its connection back when a reader stops early, however many times', async () => {
      for (let i = 0; i < 25; i++) {
        for await (const e of t.store.iterate({})) {
          expect(e.seq).toBeGreaterThan(0);
          break;
        }
        const read = await t.store.readChain();
        await read.close();
      }
      await t.recorder.recordBatch([buildEvent()]);
      expect(await verifyStoredChain(t.store)).toMatchObject({ ok: true });
    });
  });
}

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyStoredChain } from '../../src/chain/verify-stored-chain.js';
import { ManualClock } from '../../src/lib/clock.js';
import type { SqlDatabase, SqlParams } from '../../src/store/sql-database.js';
import { AuditRecorder } from '../../src/audit/audit-recorder.js';
import { SqlAuditStore } from '../../src/audit/sql-audit-store.js';
import { Catalog } from '../../src/catalog/catalog.js';
import { buildEvent } from '../support/audit-fixtures.js';
import { openWriter } from '../support/test-store.js';
import { BACKENDS, freshDatabaseUrl } from '../support/backends.js';
import type { TestDatabase } from '../support/backends.js';

/**
 * Two processes appending to one database (the server and a CLI command on one SQLite file,
 * or two nodes on PostgreSQL): each writer's idea of the chain head goes stale whenever the
 * other commits, and every append must still land once, linked after the true head.
 */
for (const backend of BACKENDS) {
  describe(`two writers on one database (${backend})`, () => {
    let tdb: TestDatabase;
    const dbs: SqlDatabase[] = [];
    const clock = new ManualClock(Date.UTC(2026, 5, 1));

    beforeEach(async () => {
      tdb = await freshDatabaseUrl(backend);
    });
    afterEach(async () => {
      for (const db of dbs.splice(0)) await db.close();
      await tdb.cleanup();
    });

    const open = async (): Promise<{ store: SqlAuditStore; recorder: AuditRecorder }> => {
      const w = await openWriter(tdb.url, clock);
      dbs.push(w.db);
      return w;
    };

    it('links every append after the true head when the other writer moved it', async () => {
      const a = await open();
      const b = await open();
      const written: number[] = [];
      for (let round = 0; round < 6; round += 1) {
        clock.advance(1_000);
        // Each writer commits once while the other's last-seen head is stale, then both at once.
        written.push(...(await a.recorder.recordBatch([buildEvent(), buildEvent()])).map((e) => e.seq));
        written.push(...(await b.recorder.recordBatch([buildEvent()])).map((e) => e.seq));
        const both = await Promise.all([a.recorder.recordBatch([buildEvent(), buildEvent(), buildEvent()]), b.recorder.recordBatch([buildEvent(), buildEvent()])]);
        written.push(...both.flat().map((e) => e.seq));
      }
      expect([...written].sort((x, y) => x - y)).toEqual(Array.from({ length: written.length }, (_, i) => i + 1));
      const verification = await verifyStoredChain(a.store);
      expect(verification.ok).toBe(true);
      expect((await a.store.head()).seq).toBe(written.length);
      expect((await b.store.head()).seq).toBe(written.length);
    });

    it('refuses the appends, without crashing, when the head cannot be read, and recovers', async () => {
      const w = await openWriter(tdb.url, clock);
      dbs.push(w.db);
      // The real database, with its head read failing while `down` is set (a connection cut).
      let down = true;
      const flaky = Object.create(w.db) as SqlDatabase;
      flaky.get = <T,>(sql: string, params?: SqlParams): Promise<T | undefined> =>
        down && sql.includes('audit_chain_head') ? Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })) : w.db.get<T>(sql, params);
      const store = new SqlAuditStore(flaky, () => clock.now());
      const recorder = new AuditRecorder(new Catalog(), store);
      const refused = await Promise.allSettled([recorder.record(buildEvent()), recorder.recordBatch([buildEvent(), buildEvent()])]);
      expect(refused.map((r) => r.status)).toEqual(['rejected', 'rejected']);
      expect(String((refused[0] as PromiseRejectedResult).reason)).toContain('cannot record entries right now');
      down = false;
      expect((await store.head()).seq).toBe(0);
      const stored = await recorder.recordBatch([buildEvent(), buildEvent()]);
      expect(stored.map((e) => e.seq)).toEqual([1, 2]);
      expect((await verifyStoredChain(store)).ok).toBe(true);
    });

    it('keeps the chain whole when a group fails while the next one is already in flight', async () => {
      const a = await open();
      let calls = 0;
      a.store.onInsert(async () => {
        calls += 1;
        // The third group fails after the fourth may already have been linked after it.
        if (calls === 3) throw new Error('outbox unavailable');
      });
      const outcomes = await Promise.allSettled(
        Array.from({ length: 40 }, (_, i) => new Promise<void>((resolve) => setTimeout(resolve, i)).then(() => a.recorder.recordBatch(Array.from({ length: 1 + (i % 5) }, () => buildEvent())))),
      );
      const stored = outcomes.flatMap((o) => (o.status === 'fulfilled' ? o.value : []));
      const refused = outcomes.filter((o) => o.status === 'rejected');
      expect(refused.length).toBeGreaterThan(0);
      for (const r of refused) expect(String((r as PromiseRejectedResult).reason)).toContain('cannot record entries right now');
      expect(stored.map((e) => e.seq).sort((x, y) => x - y)).toEqual(Array.from({ length: stored.length }, (_, i) => i + 1));
      expect((await verifyStoredChain(a.store)).ok).toBe(true);
      expect((await a.store.head()).seq).toBe(stored.length);
    });

    it('commits a body sent in several parts whole, or nothing of it', async () => {
      const a = await open();
      let fail = true;
      // The after-insert work fails once every part of the body has gone to the database.
      a.store.onInsert(async () => {
        if (fail) throw new Error('outbox unavailable');
      });
      await expect(a.recorder.recordBatch(Array.from({ length: 1_000 }, () => buildEvent()))).rejects.toThrow('cannot record entries right now');
      expect((await a.store.head()).seq).toBe(0);
      expect(await a.store.countBefore(Number.MAX_SAFE_INTEGER)).toBe(0);
      fail = false;
      const stored = await a.recorder.recordBatch(Array.from({ length: 1_000 }, () => buildEvent()));
      expect(stored.map((e) => e.seq)).toEqual(Array.from({ length: 1_000 }, (_, i) => i + 1));
      expect(new Set(stored.map((e) => e.ts)).size).toBe(1);
      expect((await verifyStoredChain(a.store)).ok).toBe(true);
    });

    it('keeps one chain when both writers send large bodies at once', async () => {
      const a = await open();
      const b = await open();
      const written: number[] = [];
      for (let round = 0; round < 3; round += 1) {
        clock.advance(1_000);
        const all = await Promise.all([a, b, a, b].map((w, i) => w.recorder.recordBatch(Array.from({ length: 300 + 97 * i }, () => buildEvent()))));
        written.push(...all.flat().map((e) => e.seq));
      }
      expect([...written].sort((x, y) => x - y)).toEqual(Array.from({ length: written.length }, (_, i) => i + 1));
      expect((await verifyStoredChain(a.store)).ok).toBe(true);
    });

    it('lands every append when one writer appends with work of its own (under the head lock) while the other sends large batches', async () => {
      const a = await open();
      const b = await open();
      let stop = false;
      const locked: number[] = [];
      const batched: number[] = [];
      const lockedLoop = (async () => {
        // Appends carrying work of their own take the head lock before they insert.
        while (!stop) locked.push(...(await a.recorder.recordBatch([buildEvent(), buildEvent()], async (tx) => void (await tx.get('SELECT 1 AS one')))).map((e) => e.seq));
      })();
      for (let round = 0; round < 6; round += 1) {
        const all = await Promise.all([0, 1, 2].map((i) => b.recorder.recordBatch(Array.from({ length: 200 + 50 * i }, () => buildEvent()))));
        batched.push(...all.flat().map((e) => e.seq));
      }
      stop = true;
      await lockedLoop;
      expect(locked.length).toBeGreaterThan(0);
      const written = [...locked, ...batched].sort((x, y) => x - y);
      expect(written).toEqual(Array.from({ length: written.length }, (_, i) => i + 1));
      expect((await verifyStoredChain(a.store)).ok).toBe(true);
    });
  });
}

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EntryRow } from '../../src/audit/entry-row.js';
import { ENTRY_SELECT } from '../../src/audit/entry-row.js';
import { chainHash } from '../../src/chain/entry-hash.js';
import type { BatchHasher, HashBatch } from '../../src/chain/hash-pool.js';
import { HashPool, sharedHashPool } from '../../src/chain/hash-pool.js';
import { verifyStoredChain } from '../../src/chain/verify-stored-chain.js';
import { buildEvent } from '../support/audit-fixtures.js';
import { BACKENDS } from '../support/backends.js';
import { openTestStore } from '../support/test-store.js';
import type { TestStore } from '../support/test-store.js';

/** Large enough for the default settings to hash in the worker pool (parallelFrom 20,000). */
const N = 21_000;

/** Passes jobs to `inner` and counts them, to prove which path a verification took. */
function counting(inner: BatchHasher): BatchHasher & { jobs: number } {
  const c = { jobs: 0, hash: (b: HashBatch) => ((c.jobs += 1), inner.hash(b)) };
  return c;
}

for (const backend of BACKENDS) {
  describe(`verify with the hashing workers (${backend})`, () => {
    let t: TestStore;
    let rows: EntryRow[];

    beforeAll(async () => {
      t = await openTestStore(backend);
      for (let at = 0; at < N; at += 1_000) {
        await t.recorder.recordBatch(Array.from({ length: 1_000 }, (_, i) => buildEvent(i % 3 === 0 ? 'user.created' : 'rotation.started')));
        t.clock.advance(1_001);
      }
      rows = await t.db.all<EntryRow>(`SELECT ${ENTRY_SELECT} FROM audit_entries ORDER BY seq`);
      expect(rows).toHaveLength(N);
    }, 120_000);

    afterAll(async () => {
      await t.close();
    });

    afterEach(async () => {
      // Every test leaves the chain as it found it.
      for (const seq of [1, 9_999, 12_345, N]) {
        const r = rows[seq - 1]!;
        await t.db.run('UPDATE audit_entries SET description = ?, hash = ?, ts = ? WHERE seq = ?', [r.description, r.hash, r.ts, seq]);
      }
    });

    it('verifies the whole chain in the worker pool with the default settings', async () => {
      const pool = counting(sharedHashPool());
      expect(await verifyStoredChain(t.store, { pool })).toEqual({ ok: true, checked: N, from_seq: 1, to_seq: N, head_hash: rows[N - 1]!.hash, first_bad_seq: null, reason: null });
      expect(pool.jobs).toBeGreaterThan(N / 1_000);
    });

    it('reports a tampered row at its exact seq, wherever it falls among the batches', async () => {
      for (const seq of [1, 12_345, N]) {
        await t.db.run("UPDATE audit_entries SET description = description || '!' WHERE seq = ?", [seq]);
        const pool = counting(sharedHashPool());
        expect(await verifyStoredChain(t.store, { pool })).toMatchObject({ ok: false, checked: seq - 1, first_bad_seq: seq, reason: 'stored hash does not match the entry contents' });
        expect(pool.jobs).toBeGreaterThan(0);
        await t.db.run('UPDATE audit_entries SET description = ? WHERE seq = ?', [rows[seq - 1]!.description, seq]);
      }
    });

    it('reports the first of two breaks, then the second once the first is repaired', async () => {
      // A row re-hashed over edited contents (its own hash fits, the next prev_hash does not)
      // after a row whose time cannot be formatted.
      await t.db.run('UPDATE audit_entries SET ts = ? WHERE seq = 9999', [8.64e15 + 1]);
      const edited = { ...rows[12_344]!, description: 'edited' };
      const { prev_hash, hash: _h, ...rest } = edited;
      const entry = {
        seq: rest.seq, id: rest.id, ts: rest.ts, occurred_at: rest.occurred_at, action: rest.action, category: rest.category as never, severity: rest.severity as never,
        actor: { type: rest.actor_type as never, id: rest.actor_id, name: rest.actor_name }, resource: { type: rest.resource_type, id: rest.resource_id, name: rest.resource_name },
        description: rest.description, detailsJson: rest.details, source: { ip: rest.source_ip, user_agent: rest.source_user_agent, token_id: rest.source_token_id }, request_id: rest.request_id,
      };
      await t.db.run('UPDATE audit_entries SET description = ?, hash = ? WHERE seq = 12345', ['edited', chainHash(prev_hash, entry)]);
      const result = await verifyStoredChain(t.store, { batchSize: 1_000 });
      expect(result).toMatchObject({ ok: false, checked: 9_998, first_bad_seq: 9_999, reason: 'entry holds a time that is not a whole millisecond in the Date range' });
      await t.db.run('UPDATE audit_entries SET ts = ? WHERE seq = 9999', [rows[9_998]!.ts]);
      expect(await verifyStoredChain(t.store, { batchSize: 1_000 })).toMatchObject({ ok: false, checked: 12_345, first_bad_seq: 12_346, reason: 'prev_hash does not match the hash of the previous entry' });
    });

    it('fails loudly, never with a result, when a hashing worker dies mid-way', async () => {
      // One worker, so the job just posted is surely still held by the worker that is stopped.
      const pool = new HashPool(1);
      let posted = 0;
      const dying: BatchHasher = {
        hash: (b) => {
          const job = pool.hash(b);
          if (++posted === 5) void pool.threads[0]!.terminate();
          return job;
        },
      };
      try {
        await expect(verifyStoredChain(t.store, { pool: dying })).rejects.toThrow(/hashing worker/);
      } finally {
        await pool.close();
      }
      // Nothing was left half-open: the next verification runs normally.
      expect(await verifyStoredChain(t.store)).toMatchObject({ ok: true, checked: N });
    });

    it('fails loudly when a hashing worker throws', async () => {
      const pool = new HashPool(1, `require('node:worker_threads').parentPort.on('message', () => { throw new Error('bad batch'); });`);
      try {
        await expect(verifyStoredChain(t.store, { pool })).rejects.toThrow(/hashing worker failed: bad batch/);
      } finally {
        await pool.close();
      }
    });
  });
}

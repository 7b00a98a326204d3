import fc from 'fast-check';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EntryRow } from '../../src/audit/entry-row.js';
import { ENTRY_COLUMNS, ENTRY_SELECT, entryInsertStatements, entryToParams, rowToEntry } from '../../src/audit/entry-row.js';
import type { ChainAnchor, ChainVerification } from '../../src/chain/chain-verifier.js';
import { ChainVerifier } from '../../src/chain/chain-verifier.js';
import { CHAIN_GENESIS, chainHash } from '../../src/chain/entry-hash.js';
import type { BatchHasher, HashBatch } from '../../src/chain/hash-pool.js';
import { HashPool, IN_THREAD, sharedHashPool } from '../../src/chain/hash-pool.js';
import type { RangeChecker, RangeJob, RangeReader } from '../../src/chain/range-pool.js';
import { RangePool } from '../../src/chain/range-pool.js';
import type { VerifyOptions } from '../../src/chain/verify-stored-chain.js';
import { verifyStoredChain } from '../../src/chain/verify-stored-chain.js';
import { SAMPLE_DETAILS, buildEvent } from '../support/audit-fixtures.js';
import { BACKENDS, TEST_PG_URL } from '../support/backends.js';
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

/** Rows in the range-worker tests, and seqs per range there: ranges (0, 500], (500, 1000], … (2500, 3000]. */
const M = 3_000;
const R = 500;
const HASH_MISMATCH = 'stored hash does not match the entry contents';
const PREV_MISMATCH = 'prev_hash does not match the hash of the previous entry';

/** Passes ranges to `inner` and counts them; `before(k)` runs before the k-th range (from 1) is passed on. */
function countingRanges(inner: RangeChecker, before?: (k: number) => Promise<void>): RangeChecker & { jobs: RangeJob[] } {
  const jobs: RangeJob[] = [];
  const handed: Array<Promise<unknown>> = [];
  return {
    size: inner.size,
    jobs,
    release: (reader) => inner.release?.(reader),
    check(job) {
      jobs.push(job);
      const k = jobs.length;
      const earlier = handed.slice();
      const result = (async () => {
        if (before) {
          // Ranges before this one are read completely first, so what each read sees is known.
          await Promise.allSettled(earlier);
          await before(k);
        }
        return inner.check(job);
      })();
      handed.push(result);
      return result;
    },
  };
}

/**
 * The single-threaded reference: every row from anchor to head (read after the state, on the
 * store's reader) through `ChainVerifier.push`, then the checks verifyStoredChain adds after
 * the walk (a row differing from its signed checkpoint, a signed checkpoint past the end, rows
 * beyond the head).
 */
async function reference(t: TestStore, checkpoints: readonly ChainAnchor[] = []): Promise<ChainVerification> {
  const { head, anchor, maxStoredSeq } = await t.store.chainState();
  const rows = await t.db.all<EntryRow>(`SELECT ${ENTRY_SELECT} FROM audit_entries WHERE seq > ? AND seq <= ? ORDER BY seq`, [anchor.seq, head.seq]);
  const signed = new Map(checkpoints.filter((c) => c.seq > anchor.seq).map((c) => [c.seq, c.hash]));
  const v = new ChainVerifier(anchor);
  let mismatch: number | null = null;
  for (const r of rows) {
    if (!v.push(rowToEntry(r))) break;
    const s = signed.get(r.seq);
    if (s !== undefined && s !== r.hash) {
      mismatch = r.seq;
      break;
    }
  }
  const result = v.finish(head);
  if (!result.ok) return result;
  if (mismatch !== null) return { ...result, ok: false, first_bad_seq: mismatch, reason: `entry differs from the signed checkpoint at seq ${mismatch}` };
  const lastSigned = Math.max(0, ...signed.keys());
  const end = result.to_seq ?? anchor.seq;
  if (lastSigned > end) return { ...result, ok: false, first_bad_seq: end + 1, reason: `a signed checkpoint covers seq ${lastSigned}, but the stored chain ends at ${end}: newest entries were removed` };
  if (maxStoredSeq !== null && maxStoredSeq > head.seq) return { ...result, ok: false, first_bad_seq: head.seq + 1, reason: `entries up to seq ${maxStoredSeq} are stored beyond the chain head (${head.seq})` };
  return result;
}

/** Puts `rows` back as the whole table, with the head after the last and the anchor at genesis (or `anchor`). */
async function replaceChain(t: TestStore, rows: readonly EntryRow[], anchor: ChainAnchor = { seq: 0, hash: CHAIN_GENESIS }): Promise<void> {
  await t.db.transaction(async (tx) => {
    await tx.run('DELETE FROM audit_entries');
    // As every writer inserts entries (with the search vector where the backend keeps one).
    for (const [sql, params] of entryInsertStatements(tx.dialect, rows.map(rowToEntry))) await tx.run(sql, params);
    const last = rows.at(-1);
    await tx.run('UPDATE audit_chain_head SET seq = ?, hash = ?, ts = ?, anchor_seq = ?, anchor_hash = ? WHERE id = 1', [last?.seq ?? anchor.seq, last?.hash ?? anchor.hash, last?.ts ?? 0, anchor.seq, anchor.hash]);
  });
}

for (const backend of BACKENDS) {
  describe(`verify in range workers (${backend === 'sqlite' ? 'sqlite file' : 'postgres snapshot'})`, () => {
    let t: TestStore;
    let rows: EntryRow[];
    let sharedRanges: RangePool;

    /** The range walk with ranges of R seqs, in a pool of two (counted). */
    const inRanges = (opts: VerifyOptions = {}, before?: (k: number) => Promise<void>): Promise<ChainVerification> & { ranges: ReturnType<typeof countingRanges> } => {
      const ranges = countingRanges(sharedRanges, before);
      return Object.assign(verifyStoredChain(t.store, { rangeSize: R, ...opts, ranges }), { ranges });
    };
    /** The snapshot walk, hashing in this thread. */
    const inOneThread = (opts: VerifyOptions = {}): Promise<ChainVerification> => verifyStoredChain(t.store, { ...opts, pool: IN_THREAD });

    /** The range walk's report, after checking it equals the snapshot walk's and the reference's. */
    async function agreed(opts: VerifyOptions = {}): Promise<ChainVerification> {
      const result = await inRanges({ parallelFrom: 1, ...opts });
      expect(await inOneThread(opts)).toEqual(result);
      expect(await reference(t, opts.checkpoints)).toEqual(result);
      return result;
    }

    const rowAt = (seq: number): EntryRow => rows[seq - 1]!;

    beforeAll(async () => {
      t = await openTestStore(backend);
      sharedRanges = new RangePool(2);
      const actions = Object.keys(SAMPLE_DETAILS);
      for (let at = 0; at < M; at += 100) {
        await t.recorder.recordBatch(
          Array.from({ length: 100 }, (_, i) =>
            buildEvent(actions[(at + i) % actions.length], {
              actor: (at + i) % 7 === 0 ? { type: 'user', id: `u-${i}`, name: `Zoë ${i} "管理者" 🔐` } : { type: 'worker', id: 'tok-1', name: null },
              occurredAt: (at + i) % 3 === 0 ? null : Date.UTC(2026, 0, 1) + at + i,
              requestId: (at + i) % 5 === 0 ? null : `req-${at + i}`,
            }),
          ),
        );
        t.clock.advance(1_001);
      }
      rows = await t.db.all<EntryRow>(`SELECT ${ENTRY_SELECT} FROM audit_entries ORDER BY seq`);
      expect(rows).toHaveLength(M);
    }, 120_000);

    afterAll(async () => {
      await sharedRanges.close();
      await t.close();
    });

    afterEach(async () => {
      // Every test leaves the chain as it found it.
      await replaceChain(t, rows);
    });

    it('checks the chain in ranges read by the workers, with the report the single-threaded walk gives', async () => {
      const run = inRanges({ parallelFrom: 1 });
      const result = await run;
      expect(result).toEqual({ ok: true, checked: M, from_seq: 1, to_seq: M, head_hash: rowAt(M).hash, first_bad_seq: null, reason: null });
      expect(run.ranges.jobs.map((j) => [j.afterSeq, j.toSeq])).toEqual(Array.from({ length: M / R }, (_, k) => [k * R, (k + 1) * R]));
      expect(await inOneThread()).toEqual(result);
      expect(await reference(t)).toEqual(result);
      // The default: from 20,000 rows; a shorter chain is walked in this thread.
      const short = inRanges();
      expect(await short).toEqual(result);
      expect(short.ranges.jobs).toHaveLength(0);
    });

    it('reports an edited row at its seq in the middle of a range, at its first and at its last row', async () => {
      for (const seq of [1, 250, 500, 501, 1_000, 1_001, 2_501, M - 1, M]) {
        await t.db.run("UPDATE audit_entries SET description = description || '!' WHERE seq = ?", [seq]);
        expect(await agreed()).toEqual({ ok: false, checked: seq - 1, from_seq: 1, to_seq: seq === 1 ? null : seq - 1, head_hash: seq === 1 ? CHAIN_GENESIS : rowAt(seq - 1).hash, first_bad_seq: seq, reason: HASH_MISMATCH });
        await t.db.run('UPDATE audit_entries SET description = ? WHERE seq = ?', [rowAt(seq).description, seq]);
      }
    });

    it('reports a broken link at the first row of a range (checked in the join) and inside one', async () => {
      for (const seq of [501, 1_001, 502, 1]) {
        await t.db.run('UPDATE audit_entries SET prev_hash = ? WHERE seq = ?', ['ab'.repeat(32), seq]);
        expect(await agreed()).toMatchObject({ ok: false, checked: seq - 1, first_bad_seq: seq, reason: PREV_MISMATCH });
        await t.db.run('UPDATE audit_entries SET prev_hash = ? WHERE seq = ?', [rowAt(seq).prev_hash, seq]);
      }
      // The last row of a range edited and hashed again: it fits its own hash, the next range's first row no longer links to it.
      const r = rowAt(500);
      await t.db.run('UPDATE audit_entries SET description = ?, hash = ? WHERE seq = 500', ['edited', chainHash(r.prev_hash, { ...rowToEntry(r), description: 'edited' })]);
      expect(await agreed()).toMatchObject({ ok: false, checked: 500, to_seq: 500, first_bad_seq: 501, reason: PREV_MISMATCH });
    });

    it('reports a time that cannot be hashed at the first row of a range after its link', async () => {
      await t.db.run('UPDATE audit_entries SET ts = ? WHERE seq = 1001', [8.64e15 + 1]);
      expect(await agreed()).toMatchObject({ ok: false, checked: 1_000, first_bad_seq: 1_001, reason: 'entry holds a time that is not a whole millisecond in the Date range' });
      // A broken link before it is reported first.
      await t.db.run('UPDATE audit_entries SET prev_hash = ? WHERE seq = 1001', ['ab'.repeat(32)]);
      expect(await agreed()).toMatchObject({ first_bad_seq: 1_001, reason: PREV_MISMATCH });
    });

    it('reports a deleted row at its seq: the last or first row of a range, a whole range, the first row of the chain', async () => {
      const cases: Array<[from: number, to: number]> = [[500, 500], [501, 501], [501, 1_000], [1_000, 1_500], [1, 1], [1, 500]];
      for (const [from, to] of cases) {
        expect(await t.db.run('DELETE FROM audit_entries WHERE seq >= ? AND seq <= ?', [from, to])).toBe(to - from + 1);
        expect(await agreed(), `rows ${from}..${to} deleted`).toMatchObject({ ok: false, checked: from - 1, first_bad_seq: from, reason: `seq ${from} is missing (next stored is ${to + 1})` });
        await replaceChain(t, rows);
      }
    });

    it('reports removed newest rows, and rows stored beyond the head', async () => {
      await t.db.run('DELETE FROM audit_entries WHERE seq > 2500');
      expect(await agreed()).toMatchObject({ ok: false, checked: 2_500, to_seq: 2_500, first_bad_seq: 2_501, reason: `entries after seq 2500 are missing (chain head is ${M})` });
      await t.db.run('DELETE FROM audit_entries WHERE seq > 2499');
      expect(await agreed()).toMatchObject({ ok: false, checked: 2_499, first_bad_seq: 2_500, reason: `entries after seq 2499 are missing (chain head is ${M})` });
      await replaceChain(t, rows);
      await t.db.run('UPDATE audit_chain_head SET seq = ?, hash = ? WHERE id = 1', [1_500, rowAt(1_500).hash]);
      expect(await agreed()).toMatchObject({ ok: false, checked: 1_500, first_bad_seq: 1_501, reason: `entries up to seq ${M} are stored beyond the chain head (1500)` });
    });

    it('reports a gap over empty ranges at its start, without handing those ranges out one by one', async () => {
      await t.db.run('DELETE FROM audit_entries WHERE seq >= 501 AND seq <= 1700');
      const spanning = inRanges({ parallelFrom: 1 });
      expect(await spanning).toMatchObject({ ok: false, checked: 500, first_bad_seq: 501, reason: 'seq 501 is missing (next stored is 1701)' });
      expect(await agreed()).toEqual(await spanning);
      // A head row moved far ahead: a trillion seqs, two billion ranges of 500, none of them read.
      await replaceChain(t, rows);
      const far = 1_000_000_000_000;
      await t.db.run('UPDATE audit_chain_head SET seq = ? WHERE id = 1', [far]);
      const ahead = inRanges({ parallelFrom: 1 });
      expect(await ahead).toMatchObject({ ok: false, checked: M, first_bad_seq: M + 1, reason: `entries after seq ${M} are missing (chain head is ${far})` });
      expect(ahead.ranges.jobs.length).toBeLessThanOrEqual(M / R + 4);
      expect(await agreed()).toEqual(await ahead);
      // … and a row forged there.
      const columns = backend === 'postgres' ? [...ENTRY_COLUMNS, 'search'] : ENTRY_COLUMNS;
      await t.db.run(`INSERT INTO audit_entries (${columns.join(', ')}) SELECT ${columns.map((c) => (c === 'seq' ? String(far) : c === 'id' ? "id || '-forged'" : c)).join(', ')} FROM audit_entries WHERE seq = ?`, [M]);
      expect(await agreed()).toMatchObject({ ok: false, checked: M, first_bad_seq: M + 1, reason: `seq ${M + 1} is missing (next stored is ${far})` });
    });

    it('reports rows swapped across a range boundary at the lower seq', async () => {
      await t.db.run('UPDATE audit_entries SET seq = -1 WHERE seq = 500');
      await t.db.run('UPDATE audit_entries SET seq = 500 WHERE seq = 501');
      await t.db.run('UPDATE audit_entries SET seq = 501 WHERE seq = -1');
      expect(await agreed()).toMatchObject({ ok: false, checked: 499, first_bad_seq: 500, reason: PREV_MISMATCH });
    });

    it('checks signed checkpoints in whichever range holds them', async () => {
      const at = (seq: number, hash = rowAt(seq).hash): ChainAnchor => ({ seq, hash });
      expect(await agreed({ checkpoints: [at(500), at(501), at(M)] })).toMatchObject({ ok: true, checked: M });
      expect(await agreed({ checkpoints: [at(500), at(M, 'ef'.repeat(32))] })).toMatchObject({ ok: false, first_bad_seq: M, reason: `entry differs from the signed checkpoint at seq ${M}` });
      expect(await agreed({ checkpoints: [at(1_000, 'ef'.repeat(32))] })).toMatchObject({ ok: false, checked: 1_000 });
      expect(await agreed({ checkpoints: [at(500), { seq: M + 5, hash: 'ef'.repeat(32) }] })).toMatchObject({ ok: false, first_bad_seq: M + 1, reason: `a signed checkpoint covers seq ${M + 5}, but the stored chain ends at ${M}: newest entries were removed` });
    });

    it('verifies from a moved anchor in ranges counted from it', async () => {
      await t.db.run('DELETE FROM audit_entries WHERE seq <= 700');
      await t.db.run('UPDATE audit_chain_head SET anchor_seq = 700, anchor_hash = ? WHERE id = 1', [rowAt(700).hash]);
      const run = inRanges({ parallelFrom: 1 });
      expect(await run).toEqual(await reference(t));
      expect(await run).toMatchObject({ ok: true, checked: M - 700, from_seq: 701 });
      expect(run.ranges.jobs[0]).toMatchObject({ afterSeq: 700, toSeq: 1_200 });
    });

    // SQLite reads each range in a transaction of its own: a purge can overtake the walk there.
    if (backend === 'sqlite') {
      describe('a retention purge racing the verification', () => {
        // Each range is read after the state: a purge committed in between removes rows a range expected.
        const purge = (count: number) => async (): Promise<void> => {
          expect((await t.store.purgeBatch(Number.MAX_SAFE_INTEGER, count))?.removed).toBe(count);
        };
        const purgeBefore = (k: number, count: number) => async (job: number): Promise<void> => {
          if (job === k) await purge(count)();
        };

        it('before any range is read: verified again from the new anchor, as a verification started after the purge', async () => {
          const run = inRanges({ parallelFrom: 1 }, purgeBefore(1, 700));
          expect(await run).toEqual({ ok: true, checked: M - 700, from_seq: 701, to_seq: M, head_hash: rowAt(M).hash, first_bad_seq: null, reason: null });
          expect(await inOneThread()).toEqual(await run);
        });

        it('between two ranges, removing rows of the second: verified again from the new anchor', async () => {
          const run = inRanges({ parallelFrom: 1 }, purgeBefore(3, 1_200));
          expect(await run).toMatchObject({ ok: true, checked: M - 1_200, from_seq: 1_201 });
          expect(run.ranges.jobs.slice(0, 3).map((j) => j.afterSeq)).toEqual([0, 500, 1_000]);
        });

        it('removing only rows already read: nothing to tell, the report is that of the state it started from', async () => {
          const run = inRanges({ parallelFrom: 1 }, purgeBefore(3, 900));
          expect(await run).toEqual({ ok: true, checked: M, from_seq: 1, to_seq: M, head_hash: rowAt(M).hash, first_bad_seq: null, reason: null });
          expect(await t.store.chainState()).toMatchObject({ anchor: { seq: 900 } });
        });

        it('still reports tampering after the new anchor, from it', async () => {
          await t.db.run("UPDATE audit_entries SET description = 'x' WHERE seq = 2000");
          const run = inRanges({ parallelFrom: 1 }, purgeBefore(1, 700));
          expect(await run).toEqual({ ok: false, checked: 1_299, from_seq: 701, to_seq: 1_999, head_hash: rowAt(1_999).hash, first_bad_seq: 2_000, reason: HASH_MISMATCH });
          expect(await inOneThread()).toEqual(await run);
        });

        it('does not take a real gap above the new anchor for the purge', async () => {
          await t.db.run('DELETE FROM audit_entries WHERE seq = 2000');
          const before = await inOneThread();
          expect(before).toMatchObject({ ok: false, checked: 1_999, from_seq: 1, first_bad_seq: 2_000, reason: 'seq 2000 is missing (next stored is 2001)' });
          // The purge removes rows the walk had already read: the gap it then finds is the chain's own.
          expect(await inRanges({ parallelFrom: 1 }, purgeBefore(3, 300))).toEqual(before);
        });
      });
    }

    // PostgreSQL: every range reads the snapshot the state was read in, exported to the workers.
    if (backend === 'postgres') {
      describe('one exported snapshot for the whole walk', () => {
        type PgReader = Extract<RangeReader, { kind: 'postgres' }>;
        const pgReader = (job: RangeJob): PgReader => job.reader as PgReader;
        /** The range pool, with each job's PostgreSQL reader changed by `change`. */
        const changed = (change: (reader: PgReader) => Partial<PgReader>): RangeChecker => ({
          size: 2,
          check: (job) => sharedRanges.check({ ...job, reader: { ...pgReader(job), ...change(pgReader(job)) } }),
        });
        const verifyWith = (ranges: RangeChecker): Promise<ChainVerification> => verifyStoredChain(t.store, { parallelFrom: 1, rangeSize: R, ranges });
        const whole = (): ChainVerification => ({ ok: true, checked: M, from_seq: 1, to_seq: M, head_hash: rowAt(M).hash, first_bad_seq: null, reason: null });
        /** Clients of the range workers connected now. */
        const workerClients = async (): Promise<number> =>
          Number((await t.db.get<{ n: number }>("SELECT COUNT(*) AS n FROM pg_stat_activity WHERE application_name = 'trailmark verify range'"))?.n);
        /** Waits (up to a second) until no range worker's client is connected; how many are then. */
        const clientsGone = async (): Promise<number> => {
          for (let i = 0; i < 50 && (await workerClients()) > 0; i++) await new Promise((r) => setTimeout(r, 20));
          return workerClients();
        };
        /** A snapshot exported by a transaction on `url`, and how to end that transaction. */
        async function exported(url: string): Promise<{ id: string; end(): Promise<void> }> {
          const client = new pg.Client({ connectionString: url });
          await client.connect();
          await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
          const id = (await client.query<{ id: string }>('SELECT pg_export_snapshot() AS id')).rows[0]!.id;
          return { id, end: () => client.query('COMMIT').then(() => client.end()) };
        }

        it('reads every range in workers that import the one snapshot, in the store\'s schema', async () => {
          const run = inRanges({ parallelFrom: 1 });
          expect(await run).toEqual(whole());
          expect(new Set(run.ranges.jobs.map((j) => pgReader(j).snapshot)).size).toBe(1);
          expect(run.ranges.jobs[0]!.reader).toMatchObject({ kind: 'postgres', schema: expect.stringMatching(/^t_/), snapshot: expect.any(String) });
        });

        it('a purge committed during the walk changes nothing: the report is that of the state it started from', async () => {
          // A cutoff inside the entries' month: rows are removed in a batch, no partition is dropped.
          const cutoff = rowAt(M).ts + 1;
          for (const [k, count] of [[1, 700], [3, 1_200], [3, 900]] as const) {
            const run = inRanges({ parallelFrom: 1 }, async (job) => {
              if (job === k) expect((await t.store.purgeBatch(cutoff, count))?.removed).toBe(count);
            });
            expect(await run, `${count} purged before range ${k}`).toEqual(whole());
            expect(await t.store.chainState()).toMatchObject({ anchor: { seq: count } });
            await replaceChain(t, rows);
          }
          // Tampering is still reported where it was, in the state the walk started from.
          await t.db.run("UPDATE audit_entries SET description = 'x' WHERE seq = 2000");
          const run = inRanges({ parallelFrom: 1 }, async (job) => {
            if (job === 1) await t.store.purgeBatch(cutoff, 700);
          });
          expect(await run).toEqual({ ok: false, checked: 1_999, from_seq: 1, to_seq: 1_999, head_hash: rowAt(1_999).hash, first_bad_seq: 2_000, reason: HASH_MISMATCH });
        });

        it('an append or an edit committed during the walk changes nothing either', async () => {
          const run = inRanges({ parallelFrom: 1 }, async (job) => {
            if (job === 2) {
              await t.recorder.recordBatch(Array.from({ length: 50 }, () => buildEvent('user.created')));
              await t.db.run("UPDATE audit_entries SET description = 'x' WHERE seq = 2800");
            }
          });
          expect(await run).toEqual(whole());
          expect(await t.store.chainState()).toMatchObject({ head: { seq: M + 50 } });
          // A verification started now sees both.
          expect(await inRanges({ parallelFrom: 1 })).toMatchObject({ ok: false, first_bad_seq: 2_800, reason: HASH_MISMATCH });
        });

        it('rejects with a clear error when the snapshot is unknown, ended, or from another database', async () => {
          await expect(verifyWith(changed(() => ({ snapshot: '00000003-0000FFFF-1' })))).rejects.toThrow(/range worker failed: .*could not import the verify snapshot on PostgreSQL: invalid snapshot identifier/);
          const ended = await exported(TEST_PG_URL);
          await ended.end();
          await expect(verifyWith(changed(() => ({ snapshot: ended.id })))).rejects.toThrow(/could not import the verify snapshot on PostgreSQL: invalid snapshot identifier/);
          const otherDb = new URL(TEST_PG_URL);
          otherDb.pathname = '/postgres';
          const foreign = await exported(otherDb.toString());
          try {
            await expect(verifyWith(changed(() => ({ snapshot: foreign.id })))).rejects.toThrow(/could not import the verify snapshot on PostgreSQL: cannot import a snapshot from a different database/);
          } finally {
            await foreign.end();
          }
          expect(await inRanges({ parallelFrom: 1 })).toEqual(whole());
        });

        it('rejects when the database cannot be reached or refuses the connection, never with the password in the error', async () => {
          const withSecret = (host: string, db: string): string => {
            const u = new URL(TEST_PG_URL);
            u.host = host;
            u.pathname = `/${db}`;
            u.username = 'postgres';
            u.password = 's3cr%40t-pw';
            return u.toString();
          };
          const unreachable = await verifyWith(changed(() => ({ connectionString: withSecret('127.0.0.1:1', 'test') }))).catch((e: Error) => e);
          expect(unreachable).toBeInstanceOf(Error);
          expect((unreachable as Error).message).toMatch(/range worker failed: .*could not connect to PostgreSQL to read the verify snapshot: .*ECONNREFUSED/);
          const noDb = await verifyWith(changed(() => ({ connectionString: withSecret(new URL(TEST_PG_URL).host, 'trailmark_no_such_db') }))).catch((e: Error) => e);
          expect((noDb as Error).message).toMatch(/could not connect to PostgreSQL to read the verify snapshot: database "trailmark_no_such_db" does not exist/);
          for (const err of [unreachable, noDb]) expect(String((err as Error).stack)).not.toMatch(/s3cr|t-pw/);
        });

        it('does not hang when a DDL lock waits behind the snapshot: the walk falls back to reading in this thread', async () => {
          // The exporting transaction holds its read locks; a LOCK (as a partition created or
          // dropped takes) queues behind them, and a worker's read queues behind that one.
          const schema = (await t.db.get<{ s: string }>('SELECT current_schema() AS s'))!.s;
          const locker = new pg.Client({ connectionString: TEST_PG_URL, options: `-c search_path=${schema}` });
          await locker.connect();
          let locked: Promise<unknown> | null = null;
          try {
            const run = inRanges({ parallelFrom: 1 }, async (k) => {
              if (k !== 1) return;
              const pid = (await locker.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
              locked = locker.query('BEGIN; LOCK TABLE audit_entries IN ACCESS EXCLUSIVE MODE');
              for (let i = 0; i < 100; i++) {
                const waiting = await t.db.get<{ n: number }>("SELECT COUNT(*) AS n FROM pg_stat_activity WHERE pid = ? AND wait_event_type = 'Lock'", [pid]);
                if (Number(waiting?.n) === 1) break;
                await new Promise((r) => setTimeout(r, 20));
              }
            });
            const started = Date.now();
            expect(await run).toEqual(whole());
            // The worker's read waited out its lock timeout (2 s) before the walk fell back.
            expect(Date.now() - started).toBeGreaterThanOrEqual(1_900);
            // The walk's snapshot is closed: the lock is granted.
            await locked;
          } finally {
            await locker.query('ROLLBACK').catch(() => undefined);
            await locker.end();
          }
        }, 20_000);

        it('holds one client per worker during the walk and gives them back when it is over', async () => {
          // Workers that would idle for a minute: the clients go because the walk is over.
          // The shared pool's workers gave theirs back when the earlier walks ended.
          expect(await clientsGone()).toBe(0);
          const pool = new RangePool(2, undefined, 60_000);
          let during = 0;
          try {
            const ranges = countingRanges(pool, async (k) => {
              if (k === 4) during = await workerClients();
            });
            expect(await verifyStoredChain(t.store, { parallelFrom: 1, rangeSize: R, ranges })).toEqual(whole());
            expect(during).toBeGreaterThanOrEqual(1);
            expect(during).toBeLessThanOrEqual(2);
            expect(await clientsGone()).toBe(0);
            expect(pool.threads).toHaveLength(2);
          } finally {
            await pool.close();
          }
        });
      });
    }

    it('fails loudly, never with a result, when a range worker dies mid-way', async () => {
      const pool = new RangePool(1);
      const dying: RangeChecker = {
        size: 1,
        check: (job) => {
          const result = pool.check(job);
          if (job.afterSeq === 1_000) void pool.threads[0]!.terminate();
          return result;
        },
      };
      try {
        await expect(verifyStoredChain(t.store, { parallelFrom: 1, rangeSize: R, ranges: dying })).rejects.toThrow(/range worker stopped/);
      } finally {
        await pool.close();
      }
      expect(await inRanges({ parallelFrom: 1 })).toMatchObject({ ok: true, checked: M });
    });

    it('fails loudly when a range worker throws, or cannot open the file', async () => {
      const throwing = new RangePool(2, `require('node:worker_threads').parentPort.on('message', () => { throw new Error('bad range'); });`);
      const answering = new RangePool(2, `const { parentPort } = require('node:worker_threads'); parentPort.on('message', (m) => parentPort.postMessage({ id: m.id, error: 'SQLITE_CANTOPEN' }));`);
      try {
        await expect(verifyStoredChain(t.store, { parallelFrom: 1, rangeSize: R, ranges: throwing })).rejects.toThrow(/range worker failed: bad range/);
        await expect(verifyStoredChain(t.store, { parallelFrom: 1, rangeSize: R, ranges: answering })).rejects.toThrow(/range worker failed: SQLITE_CANTOPEN/);
      } finally {
        await throwing.close();
        await answering.close();
      }
      if (backend === 'sqlite') {
        const gone: RangeChecker = { size: 2, check: (job) => sharedRanges.check({ ...job, reader: { kind: 'sqlite', path: `${(job.reader as { path: string }).path}.missing` } }) };
        await expect(verifyStoredChain(t.store, { parallelFrom: 1, rangeSize: R, ranges: gone })).rejects.toThrow(/range worker failed: .*(unable to open|SQLITE_CANTOPEN)/i);
      }
    });

    it('is not failed by a range that fails after the break already found', async () => {
      await t.db.run("UPDATE audit_entries SET description = 'x' WHERE seq = 10");
      const failingLate: RangeChecker = { size: 2, check: (job) => (job.afterSeq >= 500 ? Promise.reject(new Error('late')) : sharedRanges.check(job)) };
      expect(await verifyStoredChain(t.store, { parallelFrom: 1, rangeSize: R, ranges: failingLate })).toMatchObject({ ok: false, first_bad_seq: 10, reason: HASH_MISMATCH });
    });

    it('stops idle range workers, and starts new ones for the next verification', async () => {
      const pool = new RangePool(2, undefined, 50);
      try {
        expect(await verifyStoredChain(t.store, { parallelFrom: 1, rangeSize: R, ranges: pool })).toMatchObject({ ok: true, checked: M });
        expect(pool.threads).toHaveLength(2);
        await new Promise((r) => setTimeout(r, 300));
        expect(pool.threads).toHaveLength(0);
        expect(await verifyStoredChain(t.store, { parallelFrom: 1, rangeSize: R, ranges: pool })).toMatchObject({ ok: true, checked: M });
      } finally {
        await pool.close();
      }
    });

    it('gives the report of the single-threaded ChainVerifier on random logs, however they are broken and cut into ranges (property)', async () => {
      const texts = fc.string({ unit: 'grapheme', maxLength: 16 }).map((s) => s.replaceAll('\u0000', ''));
      const logs = fc.record({
        events: fc.array(fc.record({ action: fc.constantFrom(...Object.keys(SAMPLE_DETAILS)), name: fc.option(texts), description: texts, occurred: fc.option(fc.integer({ min: -1e12, max: 4e12 })), step: fc.nat(5_000) }), { maxLength: 240 }),
        anchorAt: fc.option(fc.nat(), { freq: 3 }),
        tampers: fc.array(fc.record({ at: fc.nat(), kind: fc.constantFrom('description', 'ts', 'prev_hash', 'hash', 'delete', 'seq') }), { maxLength: 3 }),
        rangeSize: fc.integer({ min: 1, max: 90 }),
        headBack: fc.constantFrom(0, 0, 0, 1, 5),
        signed: fc.array(fc.tuple(fc.nat(), fc.boolean()), { maxLength: 2 }),
      });
      await fc.assert(
        fc.asyncProperty(logs, async (log) => {
          let prev = CHAIN_GENESIS;
          let ts = Date.UTC(2026, 0, 1);
          const chain: EntryRow[] = log.events.map((ev, i) => {
            ts += ev.step;
            const pending = t.recorder.prepare(buildEvent(ev.action, { actor: { type: 'user', id: `u-${i}`, name: ev.name }, occurredAt: ev.occurred }), '');
            const entry = { ...pending, seq: i + 1, ts };
            const hash = chainHash(prev, entry);
            const row = Object.fromEntries(ENTRY_COLUMNS.map((c, k) => [c, entryToParams({ ...entry, prev_hash: prev, hash })[k]])) as unknown as EntryRow;
            prev = hash;
            return row;
          });
          const anchorSeq = log.anchorAt === null || chain.length === 0 ? 0 : log.anchorAt % chain.length;
          const kept = chain.slice(anchorSeq);
          await replaceChain(t, kept, anchorSeq === 0 ? { seq: 0, hash: CHAIN_GENESIS } : { seq: anchorSeq, hash: chain[anchorSeq - 1]!.hash });
          if (log.headBack > 0 && kept.length > log.headBack) {
            const newHead = kept[kept.length - 1 - log.headBack]!;
            await t.db.run('UPDATE audit_chain_head SET seq = ?, hash = ? WHERE id = 1', [newHead.seq, newHead.hash]);
          }
          for (const tamper of log.tampers) {
            if (kept.length === 0) break;
            const seq = kept[tamper.at % kept.length]!.seq;
            const sql = {
              description: "UPDATE audit_entries SET description = description || '~' WHERE seq = ?",
              ts: 'UPDATE audit_entries SET ts = ts + 1 WHERE seq = ?',
              prev_hash: "UPDATE audit_entries SET prev_hash = upper(prev_hash) WHERE seq = ?",
              hash: "UPDATE audit_entries SET hash = upper(hash) WHERE seq = ?",
              delete: 'DELETE FROM audit_entries WHERE seq = ?',
              seq: 'UPDATE audit_entries SET seq = -seq - 10 WHERE seq = ?',
            }[tamper.kind];
            await t.db.run(sql, [seq]);
          }
          const checkpoints = kept.length === 0 ? [] : log.signed.map(([i, right]) => ({ seq: kept[i % kept.length]!.seq, hash: right ? kept[i % kept.length]!.hash : 'ef'.repeat(32) }));
          const expected = await reference(t, checkpoints);
          expect(await inRanges({ parallelFrom: 1, rangeSize: log.rangeSize, checkpoints })).toEqual(expected);
          expect(await inOneThread({ checkpoints })).toEqual(expected);
        }),
        { numRuns: 40 },
      );
    }, 120_000);
  });
}

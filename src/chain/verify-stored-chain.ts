import type { AuditStore, ChainRead, ChainRowSource, ChainState } from '../audit/audit.store.js';
import type { ChainAnchor, ChainVerification } from './chain-verifier.js';
import { ChainVerifier, isTime } from './chain-verifier.js';
import { canonicalTuple } from './entry-hash.js';
import type { ChainLink, EntryTuple } from './entry-tuple.js';
import { linkOf, T_OCCURRED_AT, T_PREV_HASH, T_TS } from './entry-tuple.js';
import type { BatchHasher, HashBatch, HashedBatch } from './hash-pool.js';
import { IN_THREAD, sharedHashPool } from './hash-pool.js';
import type { RangeChecker, RangeResult } from './range-pool.js';
import { sharedRangePool } from './range-pool.js';

export interface VerifyOptions {
  /** Signed checkpoints (seq, hash) the stored chain must agree with; their signatures already checked. */
  readonly checkpoints?: readonly ChainAnchor[];
  readonly onProgress?: (checked: number) => void;
  /** Rows per batch read and hashed in this thread's walk (default 512: small batches die young, which keeps garbage collection cheap). */
  readonly batchSize?: number;
  /** Chains of at least this many rows are checked in worker threads (default 20,000); shorter ones in this thread. */
  readonly parallelFrom?: number;
  /**
   * The hashing workers of the walk that reads the rows in this thread (PostgreSQL, an
   * in-memory SQLite database). Giving one makes verification take that walk on SQLite files too.
   */
  readonly pool?: BatchHasher;
  /** The workers that read and check whole seq ranges of a SQLite file or a PostgreSQL snapshot (default: the process's shared pool of two). */
  readonly ranges?: RangeChecker;
  /** Seqs per range a range worker reads and checks (default 25,000). */
  readonly rangeSize?: number;
}

/** PostgreSQL's lock_not_available: a range worker's lock wait ran out. */
const LOCK_NOT_AVAILABLE = '55P03';

/** Batches hashed ahead of the one being checked, at most. */
const IN_FLIGHT = 6;

/**
 * Re-walks the stored chain from its anchor to its head. Reports the first bad seq for an
 * edited, deleted, inserted or reordered row, for removed newest entries (the head says
 * more exist, or a signed checkpoint covers entries that are gone) and for rows stored
 * beyond the head.
 *
 * Two walks give the same reports:
 * - From `parallelFrom` rows, on a SQLite file (`AuditStore.chainRowFile`) or a snapshot
 *   other connections can import (`ChainRead.share`: PostgreSQL): worker threads read and
 *   check whole seq ranges on connections of their own, and this thread joins the ranges in
 *   seq order (`verifyInRanges`).
 * - Otherwise the state and the rows come from one snapshot (`AuditStore.readChain`). Every
 *   row carries its `prev_hash`, so the SHA-256s are independent: batches of `prev_hash ‖
 *   canonical bytes` are hashed in worker threads while the next batch is read, and the
 *   links, times and hashes are checked here in seq order with the same checks, in the same
 *   order, as `ChainVerifier.push`.
 *
 * A worker failure (a worker that throws, dies or cannot connect) rejects the verification: it never reports a result.
 */
export async function verifyStoredChain(store: AuditStore, options: VerifyOptions | ((checked: number) => void) = {}): Promise<ChainVerification> {
  const opts: VerifyOptions = typeof options === 'function' ? { onProgress: options } : options;
  const read = await store.readChain();
  const { head, anchor } = read.state;
  const inRanges = opts.pool === undefined && head.seq - anchor.seq >= (opts.parallelFrom ?? 20_000);
  if (inRanges && read.share !== undefined) {
    // PostgreSQL: the workers import this snapshot, so every range reads the state read here;
    // it stays open (exported) until the walk is over.
    try {
      return await verifyInRanges(await read.share(), read.state, opts);
    } catch (err) {
      if ((err as { code?: unknown }).code !== LOCK_NOT_AVAILABLE) throw err;
      // A worker could not take its read lock: a DDL lock request (a partition created or
      // dropped) waits behind this snapshot's locks, and the worker's request queued behind
      // it. This snapshot already holds its locks: it walks the rows itself.
      return await walkSnapshot(read, opts);
    } finally {
      await read.close();
    }
  }
  const file = inRanges ? store.chainRowFile() : null;
  if (file === null) return walkSnapshot(read, opts);
  // The ranges are read on the workers' own connections: this snapshot served for the state.
  await read.close();
  const result = await verifyInRanges(file, read.state, opts);
  if (result.ok) return result;
  // Each range is read in a transaction of its own, after the state was. Rows at or below
  // that head change only by retention, which removes the oldest rows and moves the anchor
  // past them in one transaction. If the anchor has since moved to or past where the walk
  // broke, a purge may have removed rows under it: the chain is verified again from one
  // snapshot of the state since then (that walk cannot be overtaken). Otherwise what the
  // walk found is there: that is the report.
  const now = await store.chainState();
  if (now.anchor.seq < result.first_bad_seq!) return result;
  return walkSnapshot(await store.readChain(), opts);
}

/** The walk over one snapshot (`AuditStore.readChain`); closes it. */
async function walkSnapshot(read: ChainRead, opts: VerifyOptions): Promise<ChainVerification> {
  const { checkpoints = [], onProgress, batchSize = 512, parallelFrom = 20_000 } = opts;
  let verifier: ChainVerifier;
  let checkpointMismatch: number | null = null;
  const { head, anchor } = read.state;
  const expected = signedAbove(checkpoints, anchor.seq);
  try {
    verifier = new ChainVerifier(anchor);
    const hasher = head.seq - anchor.seq >= parallelFrom ? (opts.pool ?? sharedHashPool()) : IN_THREAD;
    // Only the link fields wait for the hashes: the rest of each row is garbage as soon as its
    // bytes are laid out, young enough to be collected cheaply.
    const inFlight: Array<{ links: ChainLink[]; hashed: Promise<HashedBatch> }> = [];
    /** Byte buffers of finished batches, written again by the next ones (at most IN_FLIGHT + 1 exist). */
    const spares: ArrayBuffer[] = [];
    let n = 0;
    /** Checks the oldest hashed batch; false once the chain is broken. */
    const checkOldest = async (): Promise<boolean> => {
      const { links, hashed } = inFlight.shift()!;
      const { digests: d, spare } = await hashed;
      spares.push(spare);
      for (let i = 0; i < links.length; i++) {
        const link = links[i]!;
        if (!verifier.pushLink(link, d, i * 32)) return false;
        const seq = link[0];
        const signed = expected.size > 0 ? expected.get(seq) : undefined;
        if (signed !== undefined && signed !== link[4]) {
          checkpointMismatch = seq;
          return false;
        }
        if (onProgress && ++n % 100_000 === 0) onProgress(n);
      }
      return true;
    };
    try {
      let going = true;
      for await (const rows of read.rows({ afterSeq: anchor.seq, toSeq: head.seq }, batchSize)) {
        const hashed = hasher.hash(encodeBatch(rows, spares.pop()));
        // Settled later, in order; a failure surfaces there (or is moot once a break was found).
        hashed.catch(() => undefined);
        inFlight.push({ links: rows.map(linkOf), hashed });
        if (inFlight.length >= IN_FLIGHT && !(await checkOldest())) {
          going = false;
          break;
        }
      }
      while (going && inFlight.length > 0) going = await checkOldest();
    } finally {
      inFlight.length = 0;
    }
  } finally {
    await read.close();
  }
  return conclude(verifier.finish(head), read.state, expected, checkpointMismatch);
}

/**
 * The walk over seq ranges read by workers (a SQLite file: each range in one read transaction
 * of its own; PostgreSQL: every range in the one exported snapshot):
 * `rangeSize` seqs per range, handed out as workers come free (one range per worker at a
 * time, at most two per worker ahead of the join), joined here in seq order with
 * `ChainVerifier.pushRun`. The first break stops it: no range is handed out after that, and
 * the ranges still running are ignored. A range whose rows stop short of its top is a break
 * too (a seq is missing there): its worker names the next stored row, so the empty seqs
 * after a gap are never read range by range. A range's failure (its worker threw or died)
 * rejects the walk when the join reaches that range.
 */
async function verifyInRanges(source: ChainRowSource, state: ChainState, opts: VerifyOptions): Promise<ChainVerification> {
  const { checkpoints = [], onProgress } = opts;
  const checker = opts.ranges ?? sharedRangePool();
  const rangeSize = Math.max(1, Math.floor(opts.rangeSize ?? 25_000));
  const { head, anchor } = state;
  const expected = signedAbove(checkpoints, anchor.seq);
  const signed = [...expected].sort((a, b) => a[0] - b[0]);
  const verifier = new ChainVerifier(anchor);
  const count = Math.ceil((head.seq - anchor.seq) / rangeSize);
  const results: Array<Promise<RangeResult> | undefined> = [];
  const width = Math.max(1, checker.size);
  let handedOut = 0;
  let joined = 0;
  let running = 0;
  let stopped = false;
  const handOut = (): void => {
    // One range per worker, and never far ahead of the join.
    while (!stopped && handedOut < count && running < width && handedOut < joined + 2 * width) {
      const afterSeq = anchor.seq + handedOut * rangeSize;
      const toSeq = Math.min(afterSeq + rangeSize, head.seq);
      const result = checker.check({ reader: source.reader, sql: source.rangeSql, afterSeq, toSeq, headSeq: head.seq, signed: signed.filter(([seq]) => seq > afterSeq && seq <= toSeq) });
      running += 1;
      const next = (): void => {
        running -= 1;
        handOut();
      };
      // Settled later, in order; a failure surfaces there (or is moot once a break was found).
      result.then(next, next);
      results[handedOut++] = result;
    }
  };
  let checkpointMismatch: number | null = null;
  let n = 0;
  try {
    handOut();
    for (let i = 0; i < count; i++) {
      const { run, signedMismatch, beyond } = await results[i]!;
      results[i] = undefined;
      const going = run === null || verifier.pushRun(run);
      if (onProgress) {
        // As the snapshot walk counts: entries accepted, but not one that differs from its signed checkpoint.
        const done = verifier.count - (signedMismatch === null ? 0 : 1);
        for (let at = (Math.floor(n / 100_000) + 1) * 100_000; at <= done; at += 100_000) onProgress(at);
        n = done;
      }
      if (!going) break;
      if (signedMismatch !== null) {
        checkpointMismatch = signedMismatch;
        break;
      }
      if (beyond !== undefined) {
        // A seq below `beyond` is missing (none is stored above: `finish` reports the newest as missing).
        if (beyond !== null) verifier.pushRun({ first: beyond, passed: 0, last: null, failure: null });
        break;
      }
      joined = i + 1;
      handOut();
    }
  } finally {
    stopped = true;
    for (const r of results) r?.catch(() => undefined);
    checker.release?.(source.reader);
  }
  return conclude(verifier.finish(head), state, expected, checkpointMismatch);
}

/** The signed checkpoints after the anchor, by seq. */
function signedAbove(checkpoints: readonly ChainAnchor[], anchorSeq: number): Map<number, string> {
  return new Map(checkpoints.filter((c) => c.seq > anchorSeq).map((c) => [c.seq, c.hash]));
}

/** The report from the walk's outcome: then a differing signed checkpoint, a signed checkpoint past the end, rows beyond the head. */
function conclude(result: ChainVerification, state: ChainState, expected: ReadonlyMap<number, string>, checkpointMismatch: number | null): ChainVerification {
  const { head, anchor, maxStoredSeq } = state;
  if (result.ok && checkpointMismatch !== null) {
    return { ...result, ok: false, first_bad_seq: checkpointMismatch, reason: `entry differs from the signed checkpoint at seq ${checkpointMismatch}` };
  }
  const lastSigned = Math.max(0, ...expected.keys());
  if (result.ok && lastSigned > (result.to_seq ?? anchor.seq)) {
    const from = (result.to_seq ?? anchor.seq) + 1;
    return { ...result, ok: false, first_bad_seq: from, reason: `a signed checkpoint covers seq ${lastSigned}, but the stored chain ends at ${from - 1}: newest entries were removed` };
  }
  if (result.ok && maxStoredSeq !== null && maxStoredSeq > head.seq) {
    return { ...result, ok: false, first_bad_seq: head.seq + 1, reason: `entries up to seq ${maxStoredSeq} are stored beyond the chain head (${head.seq})` };
  }
  return result;
}

/**
 * Lays out `prev_hash (32 raw bytes) ‖ canonical bytes` of each row in one buffer. A row whose
 * times cannot be written canonically gets an empty segment: the verifier stops at its time
 * check before it would look at that hash.
 */
export function encodeBatch(rows: readonly EntryTuple[], reuse?: ArrayBuffer): HashBatch {
  const ends = new Uint32Array(rows.length);
  let buf = reuse && reuse.byteLength > 0 ? Buffer.from(reuse) : Buffer.allocUnsafeSlow(Math.max(64 * 1024, rows.length * 768));
  let at = 0;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    const occurredAt = r[T_OCCURRED_AT];
    if (isTime(r[T_TS]) && (occurredAt === null || isTime(occurredAt))) {
      const text = canonicalTuple(r);
      const prev = r[T_PREV_HASH];
      const need = at + 32 + prev.length + text.length * 3;
      if (need > buf.length) {
        const grown = Buffer.allocUnsafeSlow(Math.max(need, buf.length * 2));
        buf.copy(grown, 0, 0, at);
        buf = grown;
      }
      // As `Buffer.from(prev_hash, 'hex')`: decoding stops at the first byte that is not hex.
      at += buf.write(prev, at, 'hex');
      at += buf.write(text, at, 'utf8');
    }
    ends[i] = at;
  }
  return { bytes: buf.subarray(0, at), ends };
}

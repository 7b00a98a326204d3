import type { AuditStore } from '../audit/audit.store.js';
import type { ChainAnchor, ChainVerification } from './chain-verifier.js';
import { ChainVerifier, isTime } from './chain-verifier.js';
import { canonicalTuple } from './entry-hash.js';
import type { ChainLink, EntryTuple } from './entry-tuple.js';
import { linkOf, T_OCCURRED_AT, T_PREV_HASH, T_TS } from './entry-tuple.js';
import type { BatchHasher, HashBatch, HashedBatch } from './hash-pool.js';
import { IN_THREAD, sharedHashPool } from './hash-pool.js';

export interface VerifyOptions {
  /** Signed checkpoints (seq, hash) the stored chain must agree with; their signatures already checked. */
  readonly checkpoints?: readonly ChainAnchor[];
  readonly onProgress?: (checked: number) => void;
  /** Rows per batch read and hashed (default 512: small batches die young, which keeps garbage collection cheap). */
  readonly batchSize?: number;
  /** Chains of at least this many rows are hashed in the worker pool (default 20,000); shorter ones in this thread. */
  readonly parallelFrom?: number;
  /** The hashing workers (default: the process's shared pool of two). */
  readonly pool?: BatchHasher;
}

/** Batches hashed ahead of the one being checked, at most. */
const IN_FLIGHT = 6;

/**
 * Re-walks the stored chain from its anchor to its head. Reports the first bad seq for an
 * edited, deleted, inserted or reordered row, for removed newest entries (the head says
 * more exist, or a signed checkpoint covers entries that are gone) and for rows stored
 * beyond the head.
 *
 * The state and the rows come from one snapshot (`AuditStore.readChain`). Every row carries
 * its `prev_hash`, so the SHA-256s are independent: batches of `prev_hash ‖ canonical bytes`
 * are hashed in worker threads while the next batch is read, and the links, times and hashes
 * are checked here in seq order with the same checks, in the same order, as `ChainVerifier.push`.
 * A hashing failure (a worker that throws or dies) rejects the verification: it never reports a result.
 */
export async function verifyStoredChain(store: AuditStore, options: VerifyOptions | ((checked: number) => void) = {}): Promise<ChainVerification> {
  const opts: VerifyOptions = typeof options === 'function' ? { onProgress: options } : options;
  const { checkpoints = [], onProgress, batchSize = 512, parallelFrom = 20_000 } = opts;
  const read = await store.readChain();
  let verifier: ChainVerifier;
  let checkpointMismatch: { seq: number; reason: string } | null = null;
  const { head, anchor, maxStoredSeq } = read.state;
  const expected = new Map(checkpoints.filter((c) => c.seq > anchor.seq).map((c) => [c.seq, c.hash]));
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
          checkpointMismatch = { seq, reason: `entry differs from the signed checkpoint at seq ${seq}` };
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
  const result = verifier.finish(head);
  if (result.ok && checkpointMismatch) {
    const mismatch: { seq: number; reason: string } = checkpointMismatch;
    return { ...result, ok: false, first_bad_seq: mismatch.seq, reason: mismatch.reason };
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

import { hash } from 'node:crypto';
import type { PooledReply } from '../lib/worker-pool.js';
import { WorkerPool } from '../lib/worker-pool.js';

/**
 * A batch of byte strings to hash: segment i is `bytes[ends[i-1] .. ends[i])` (from 0 for
 * the first). A pool takes both over: their memory is moved to the hashing thread (not
 * copied) and is unusable here afterwards.
 */
export interface HashBatch {
  readonly bytes: Uint8Array;
  readonly ends: Uint32Array;
}

/** What hashing a batch gives back: the digests, and the batch's byte buffer to reuse. */
export interface HashedBatch {
  /** SHA-256 of each segment, 32 bytes apiece, in order. */
  readonly digests: Buffer;
  /** The memory the batch's bytes were in, handed back for the next batch. */
  readonly spare: ArrayBuffer;
}

/** Hashes batches of segments. */
export interface BatchHasher {
  hash(batch: HashBatch): Promise<HashedBatch>;
}

/** SHA-256 of every segment of a batch, in the calling thread. */
export function hashBatch(batch: HashBatch): Buffer {
  const { bytes, ends } = batch;
  const out = Buffer.allocUnsafe(ends.length * 32);
  let start = 0;
  for (let i = 0; i < ends.length; i++) {
    const end = ends[i]!;
    hash('sha256', bytes.subarray(start, end), 'buffer').copy(out, i * 32);
    start = end;
  }
  return out;
}

/** The same work as `hashBatch`, for the hashing threads. */
export const IN_THREAD: BatchHasher = {
  hash: (batch) => Promise.resolve({ digests: hashBatch(batch), spare: batch.bytes.buffer as ArrayBuffer }),
};

/**
 * The worker's program, as plain JavaScript run with `eval`: a worker started from a file
 * would need that file to exist as JavaScript, which it does only in the built `dist/` (not
 * under tsx or vitest, which run `src/*.ts`). It uses nothing but `node:crypto`, so the same
 * text runs everywhere. It mirrors `hashBatch` above; the tests compare the two.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { hash } = require('node:crypto');
parentPort.on('message', (job) => {
  try {
    const bytes = new Uint8Array(job.bytes, job.offset, job.length);
    const ends = new Uint32Array(job.ends, job.endsOffset, job.count);
    const out = new Uint8Array(ends.length * 32);
    let start = 0;
    for (let i = 0; i < ends.length; i++) {
      const end = ends[i];
      out.set(hash('sha256', bytes.subarray(start, end), 'buffer'), i * 32);
      start = end;
    }
    parentPort.postMessage({ id: job.id, digests: out.buffer, spare: job.bytes }, [out.buffer, job.bytes]);
  } catch (err) {
    parentPort.postMessage({ id: job.id, error: String(err && err.stack || err) });
  }
});
`;

/**
 * A view whose whole ArrayBuffer may be moved to another thread: the view's own when it is
 * larger than Buffer's shared pool slab (small Buffers share that slab, which must never be
 * moved), else a copy.
 */
function movable(view: Uint8Array): Uint8Array<ArrayBuffer>;
function movable(view: Uint32Array): Uint32Array<ArrayBuffer>;
function movable(view: Uint8Array | Uint32Array): Uint8Array<ArrayBuffer> | Uint32Array<ArrayBuffer> {
  const { buffer } = view;
  if (buffer instanceof ArrayBuffer && buffer.byteLength > Buffer.poolSize) return view as Uint8Array<ArrayBuffer> | Uint32Array<ArrayBuffer>;
  // A copy into memory of its own (Buffer#slice would share).
  return view instanceof Uint32Array ? new Uint32Array(view) : new Uint8Array(view);
}

/**
 * SHA-256 in `worker_threads` (a `WorkerPool`): jobs go to the worker with the fewest
 * outstanding. A worker that throws or exits fails every job it holds (the caller must treat
 * that as a failed verification, never as a result) and is replaced on the next job. Idle
 * workers do not keep the process alive; a worker with work does.
 */
export class HashPool implements BatchHasher {
  private readonly pool: WorkerPool<HashedBatch>;

  constructor(
    readonly size: number,
    source: string = WORKER_SOURCE,
    /** Workers stop after this long without work (their memory goes back to the system); the next job starts new ones. */
    idleMs = 1_000,
  ) {
    this.pool = new WorkerPool(size, { name: 'hashing worker', source, result: hashedBatch }, idleMs);
  }

  hash(batch: HashBatch): Promise<HashedBatch> {
    const bytes = movable(batch.bytes);
    const ends = movable(batch.ends);
    return this.pool.run({ bytes: bytes.buffer, offset: bytes.byteOffset, length: bytes.byteLength, ends: ends.buffer, endsOffset: ends.byteOffset, count: batch.ends.length }, [bytes.buffer, ends.buffer]);
  }

  /** Stops every worker; their outstanding jobs fail. */
  close(): Promise<void> {
    return this.pool.close();
  }

  /** The running workers (tests stop one to see a verification fail). */
  get threads(): WorkerPool<HashedBatch>['threads'] {
    return this.pool.threads;
  }
}

/** A hashing worker's reply: the digests and the buffer handed back for reuse. */
function hashedBatch(reply: PooledReply): HashedBatch | undefined {
  const { digests, spare } = reply as PooledReply & { digests?: ArrayBuffer; spare?: ArrayBuffer };
  return digests && spare ? { digests: Buffer.from(digests), spare } : undefined;
}

let shared: HashPool | null = null;

/** The process's pool of two hashing workers, started on first use. */
export function sharedHashPool(): HashPool {
  shared ??= new HashPool(2);
  return shared;
}

import { hash } from 'node:crypto';
import { Worker } from 'node:worker_threads';

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

interface Job {
  readonly resolve: (result: HashedBatch) => void;
  readonly reject: (err: Error) => void;
}

class HashWorker {
  readonly jobs = new Map<number, Job>();
  private dead: Error | null = null;

  constructor(
    private readonly worker: Worker,
    private readonly onDead: (w: HashWorker) => void,
    private readonly onIdle: () => void,
  ) {
    worker.unref();
    worker.on('message', (m: { id: number; digests?: ArrayBuffer; spare?: ArrayBuffer; error?: string }) => {
      const job = this.jobs.get(m.id);
      if (!job) return;
      this.jobs.delete(m.id);
      if (this.jobs.size === 0) {
        worker.unref();
        this.onIdle();
      }
      if (m.digests && m.spare) job.resolve({ digests: Buffer.from(m.digests), spare: m.spare });
      else job.reject(new Error(`a hashing worker failed: ${m.error ?? 'no result'}`));
    });
    worker.on('error', (err) => this.die(new Error(`a hashing worker failed: ${err.message}`, { cause: err })));
    worker.on('exit', (code) => this.die(new Error(`a hashing worker stopped (exit code ${code}) before it answered`)));
  }

  post(id: number, batch: HashBatch, job: Job): void {
    if (this.dead) {
      job.reject(this.dead);
      return;
    }
    this.jobs.set(id, job);
    this.worker.ref();
    const bytes = movable(batch.bytes);
    const ends = movable(batch.ends);
    this.worker.postMessage({ id, bytes: bytes.buffer, offset: bytes.byteOffset, length: bytes.byteLength, ends: ends.buffer, endsOffset: ends.byteOffset, count: batch.ends.length }, [bytes.buffer, ends.buffer]);
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }

  private die(err: Error): void {
    if (this.dead) return;
    this.dead = err;
    this.onDead(this);
    for (const job of this.jobs.values()) job.reject(err);
    this.jobs.clear();
    this.worker.unref();
  }
}

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
 * SHA-256 in `worker_threads`. Jobs go to the worker with the fewest outstanding. A worker
 * that throws or exits fails every job it holds (the caller must treat that as a failed
 * verification, never as a result) and is replaced on the next job. Idle workers do not keep
 * the process alive; a worker with work does.
 */
export class HashPool implements BatchHasher {
  private readonly workers: HashWorker[] = [];
  private nextId = 1;
  private idleTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly size: number,
    private readonly source: string = WORKER_SOURCE,
    /** Workers stop after this long without work (their memory goes back to the system); the next job starts new ones. */
    private readonly idleMs = 1_000,
  ) {}

  hash(batch: HashBatch): Promise<HashedBatch> {
    if (this.idleTimer) {
      clearTimeout(this.idleTimer);
      this.idleTimer = null;
    }
    return new Promise<HashedBatch>((resolve, reject) => {
      this.pick().post(this.nextId++, batch, { resolve, reject });
    });
  }

  /** Stops every worker; their outstanding jobs fail. */
  async close(): Promise<void> {
    await Promise.all(this.workers.splice(0).map((w) => w.terminate()));
  }

  /** The running workers (tests stop one to see a verification fail). */
  get threads(): readonly { terminate(): Promise<number>; readonly jobs: ReadonlyMap<number, unknown> }[] {
    return this.workers;
  }

  private pick(): HashWorker {
    while (this.workers.length < this.size) {
      this.workers.push(new HashWorker(new Worker(this.source, { eval: true }), (dead) => this.forget(dead), () => this.idled()));
    }
    let best = this.workers[0]!;
    for (const w of this.workers) if (w.jobs.size < best.jobs.size) best = w;
    return best;
  }

  private idled(): void {
    if (this.idleTimer || this.workers.some((w) => w.jobs.size > 0)) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      if (this.workers.every((w) => w.jobs.size === 0)) void this.close();
    }, this.idleMs);
    this.idleTimer.unref();
  }

  private forget(dead: HashWorker): void {
    const i = this.workers.indexOf(dead);
    if (i >= 0) this.workers.splice(i, 1);
  }
}

let shared: HashPool | null = null;

/** The process's pool of two hashing workers, started on first use. */
export function sharedHashPool(): HashPool {
  shared ??= new HashPool(2);
  return shared;
}

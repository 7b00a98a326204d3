import { Worker } from 'node:worker_threads';
import type { TransferListItem } from 'node:worker_threads';

/** What a pooled worker's program answers: the job's id, then its result or why it failed. */
export interface PooledReply {
  readonly id: number;
  readonly error?: string;
  readonly code?: string;
}

interface Waiter<R> {
  readonly resolve: (result: R) => void;
  readonly reject: (err: Error) => void;
}

/** How a pool's workers are started and their replies read. */
export interface WorkerKind<R> {
  /** What the workers are called in errors ("a hashing worker failed: …"). */
  readonly name: string;
  /** The worker's program, run with `eval` (plain JavaScript, so it works from the build, tsx and vitest). */
  readonly source: string;
  readonly workerData?: unknown;
  /** The result in a reply, or undefined when the reply carries none (then the job fails). */
  result(reply: PooledReply): R | undefined;
}

/**
 * One worker thread of a pool and the jobs it holds. It is referenced only while it has jobs:
 * an idle worker never holds the process open. A worker that throws or exits fails every job
 * it holds and is dropped from its pool.
 */
class PooledWorker<R> {
  readonly jobs = new Map<number, Waiter<R>>();
  private dead: Error | null = null;

  constructor(
    private readonly worker: Worker,
    private readonly kind: WorkerKind<R>,
    private readonly onDead: (w: PooledWorker<R>) => void,
    private readonly onIdle: () => void,
  ) {
    worker.unref();
    worker.on('message', (m: PooledReply) => {
      const job = this.jobs.get(m.id);
      if (!job) return;
      this.jobs.delete(m.id);
      if (this.jobs.size === 0) {
        worker.unref();
        this.onIdle();
      }
      const result = kind.result(m);
      if (result !== undefined) job.resolve(result);
      else job.reject(Object.assign(new Error(`a ${kind.name} failed: ${m.error ?? 'no result'}`), m.code === undefined ? {} : { code: m.code }));
    });
    worker.on('error', (err) => this.die(new Error(`a ${kind.name} failed: ${err.message}`, { cause: err })));
    worker.on('exit', (code) => this.die(new Error(`a ${kind.name} stopped (exit code ${code}) before it answered`)));
  }

  post(id: number, message: object, transfer: readonly TransferListItem[], waiter: Waiter<R>): void {
    if (this.dead) {
      waiter.reject(this.dead);
      return;
    }
    this.jobs.set(id, waiter);
    this.worker.ref();
    this.worker.postMessage({ id, ...message }, [...transfer]);
  }

  /** A message the worker does not answer (it is not a job). */
  tell(message: object): void {
    if (!this.dead) this.worker.postMessage(message);
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
 * A fixed number of worker threads running one program. Jobs go to the worker with the fewest
 * outstanding; workers start on the first job and stop after `idleMs` without work (their
 * memory goes back to the system). A worker that throws or exits fails every job it holds (a
 * caller must treat that as a failure, never as a result) and is replaced on the next job.
 * The hashing and range-reading pools of verify are both this.
 */
export class WorkerPool<R> {
  private readonly workers: Array<PooledWorker<R>> = [];
  private nextId = 1;
  private idleTimer: NodeJS.Timeout | null = null;

  constructor(
    readonly size: number,
    private readonly kind: WorkerKind<R>,
    private readonly idleMs = 1_000,
  ) {}

  run(message: object, transfer: readonly TransferListItem[] = []): Promise<R> {
    if (this.idleTimer) {
      clearTimeout(this.idleTimer);
      this.idleTimer = null;
    }
    return new Promise<R>((resolve, reject) => {
      this.pick().post(this.nextId++, message, transfer, { resolve, reject });
    });
  }

  /** Sends every running worker a message it does not answer. */
  tellAll(message: object): void {
    for (const w of this.workers) w.tell(message);
  }

  /** Stops every worker; their outstanding jobs fail. */
  async close(): Promise<void> {
    await Promise.all(this.workers.splice(0).map((w) => w.terminate()));
  }

  /** The running workers (tests stop one to see a job fail). */
  get threads(): readonly { terminate(): Promise<number>; readonly jobs: ReadonlyMap<number, unknown> }[] {
    return this.workers;
  }

  private pick(): PooledWorker<R> {
    while (this.workers.length < this.size) {
      const worker = new Worker(this.kind.source, { eval: true, workerData: this.kind.workerData });
      this.workers.push(new PooledWorker(worker, this.kind, (dead) => this.forget(dead), () => this.idled()));
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

  private forget(dead: PooledWorker<R>): void {
    const i = this.workers.indexOf(dead);
    if (i >= 0) this.workers.splice(i, 1);
  }
}

import { hash } from 'node:crypto';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { CheckedRun } from './chain-verifier.js';
import { BAD_TIME, HASH_MISMATCH, PREV_HASH_MISMATCH } from './chain-verifier.js';

/** One seq range of the stored chain for a worker to read and check on a connection of its own. */
export interface RangeJob {
  /** The SQLite database file. */
  readonly path: string;
  /** The rows with `? < seq <= ?` in ascending seq, every column of `audit_entries` in `EntryTuple` order. */
  readonly sql: string;
  readonly afterSeq: number;
  readonly toSeq: number;
  /** The chain head's seq: where to look for the next stored row when the range's rows stop short of `toSeq`. */
  readonly headSeq: number;
  /** Signed checkpoints (seq, hash) inside the range. */
  readonly signed: ReadonlyArray<readonly [seq: number, hash: string]>;
}

/**
 * What a worker found in its range: the run of rows (`CheckedRun`, null when the range holds
 * no rows), where the rows stopped agreeing with a signed checkpoint, and, when every row
 * passed but they stop short of the range's top, the next row stored above it.
 */
export interface RangeResult {
  readonly run: CheckedRun | null;
  /** Seq of a row that passed every check but differs from the signed checkpoint there (the run ends with it); null if none. */
  readonly signedMismatch: number | null;
  /**
   * Set only when the range holds no row at its top seq and its rows raised nothing: the first
   * row stored above the range up to the head (seq, `prev_hash`), null when there is none. A
   * seq is then missing before that row, wherever the following ranges' rows are.
   */
  readonly beyond?: readonly [seq: number, prevHash: string] | null;
}

/** Reads and checks seq ranges of a stored chain. */
export interface RangeChecker {
  /** How many ranges it works on at once. */
  readonly size: number;
  check(job: RangeJob): Promise<RangeResult>;
}

/**
 * The check of one range, as plain JavaScript (a worker cannot load a .ts file in plain Node;
 * see `HashPool`). It needs `hash` (node:crypto) and `Buffer` in scope and defines
 * `checkRange(chunks, signed)`: `chunks` yields arrays of rows in ascending seq, `signed` is a
 * list of (seq, hash).
 *
 * It mirrors, and must stay equal to: `IsoTimeFormatter` (iso-time.ts), `canonicalTuple` and
 * its `ts` cache (entry-hash.ts), the byte layout of `encodeBatch` (verify-stored-chain.ts:
 * `prev_hash` written as hex, stopping at the first byte that is not hex, then the canonical
 * text as UTF-8), `isTime` and the checks of `ChainVerifier.check`, in the same order. From
 * the second row of a range on, each row is checked against the row before it; the first
 * row's seq and `prev_hash` are left to `ChainVerifier.pushRun`. Tests hold it equal to the
 * TypeScript (`canonicalTuple`, and `ChainVerifier` over random and tampered chains).
 */
const RANGE_CHECK = `
const DAY_MS = 86400000;
const TWO = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'));
const THREE = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
class IsoTimeFormatter {
  constructor() { this.day = NaN; this.dayPrefix = ''; }
  format(ms) {
    if (!Number.isSafeInteger(ms)) return new Date(ms).toISOString();
    const day = Math.floor(ms / DAY_MS);
    if (day !== this.day) {
      const text = new Date(day * DAY_MS).toISOString();
      if (text.length !== 24) return new Date(ms).toISOString();
      this.day = day;
      this.dayPrefix = text.slice(0, 11);
    }
    let rest = ms - day * DAY_MS;
    const h = Math.floor(rest / 3600000);
    rest -= h * 3600000;
    const m = Math.floor(rest / 60000);
    rest -= m * 60000;
    const s = Math.floor(rest / 1000);
    return this.dayPrefix + TWO[h] + ':' + TWO[m] + ':' + TWO[s] + '.' + THREE[rest - s * 1000] + 'Z';
  }
}
const q = JSON.stringify;
const orNull = (v) => (v === null ? 'null' : q(v));
const tsFormat = new IsoTimeFormatter();
let lastTs = NaN;
let lastTsText = '""';
function tsText(ms) {
  if (ms !== lastTs) {
    lastTsText = '"' + tsFormat.format(ms) + '"';
    lastTs = ms;
  }
  return lastTsText;
}
const occurredFormat = new IsoTimeFormatter();
const occurredText = (ms) => (ms === null ? 'null' : '"' + occurredFormat.format(ms) + '"');
function canonicalRow(r) {
  return (
    \`{"action":\${q(r[4])}\` +
    \`,"actor":{"id":\${orNull(r[8])},"name":\${orNull(r[9])},"type":\${q(r[7])}}\` +
    \`,"category":\${q(r[5])}\` +
    \`,"description":\${q(r[13])}\` +
    \`,"details":\${r[14]}\` +
    \`,"id":\${q(r[1])}\` +
    \`,"occurred_at":\${occurredText(r[3])}\` +
    \`,"request_id":\${orNull(r[18])}\` +
    \`,"resource":{"id":\${q(r[11])},"name":\${orNull(r[12])},"type":\${q(r[10])}}\` +
    \`,"seq":\${r[0]}\` +
    \`,"severity":\${q(r[6])}\` +
    \`,"source":{"ip":\${orNull(r[15])},"token_id":\${orNull(r[17])},"user_agent":\${orNull(r[16])}}\` +
    \`,"ts":\${tsText(r[2])}}\`
  );
}
const isTime = (ms) => Number.isSafeInteger(ms) && Math.abs(ms) <= 8.64e15;
let layout = Buffer.allocUnsafeSlow(64 * 1024);
/** SHA-256 (hex) of prev_hash (raw bytes) ‖ canonical bytes of a row. */
function rowHash(r) {
  const text = canonicalRow(r);
  const prev = r[19];
  const need = 32 + prev.length + text.length * 3;
  if (need > layout.length) layout = Buffer.allocUnsafeSlow(Math.max(need, layout.length * 2));
  let at = layout.write(prev, 0, 'hex');
  at += layout.write(text, at, 'utf8');
  return hash('sha256', layout.subarray(0, at), 'hex');
}
function checkRange(chunks, signed) {
  const expected = signed.length > 0 ? new Map(signed) : null;
  let first = null;
  let passed = 0;
  let prevSeq = 0;
  let prevHash = '';
  let failure = null;
  let signedMismatch = null;
  outer: for (const rows of chunks) {
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i];
      const seq = r[0];
      if (first === null) {
        first = [seq, r[19]];
      } else {
        const next = prevSeq + 1;
        if (seq !== next) {
          failure = seq > next
            ? { seq: next, reason: 'seq ' + next + ' is missing (next stored is ' + seq + ')' }
            : { seq, reason: 'seq ' + seq + ' is out of order' };
          break outer;
        }
        if (r[19] !== prevHash) {
          failure = { seq, reason: ${JSON.stringify(PREV_HASH_MISMATCH)}};
          break outer;
        }
      }
      const occurredAt = r[3];
      if (!isTime(r[2]) || (occurredAt !== null && !isTime(occurredAt))) {
        failure = { seq, reason: ${JSON.stringify(BAD_TIME)}};
        break outer;
      }
      const h = r[20];
      if (rowHash(r) !== h) {
        failure = { seq, reason: ${JSON.stringify(HASH_MISMATCH)}};
        break outer;
      }
      prevSeq = seq;
      prevHash = h;
      passed += 1;
      if (expected !== null) {
        const s = expected.get(seq);
        if (s !== undefined && s !== h) {
          signedMismatch = seq;
          break outer;
        }
      }
    }
  }
  return {
    run: first === null ? null : { first, passed, last: passed > 0 ? { seq: prevSeq, hash: prevHash } : null, failure },
    signedMismatch,
  };
}
`;

/** Rows per statement inside a range (one read transaction): small arrays die young. */
const CHUNK = 512;

/**
 * The worker's program: for each job, a read-only connection on the file, one read
 * transaction over the range (so the range is one consistent view), the rows read in chunks
 * of `CHUNK` seqs in array mode, `checkRange` over them, and, when the rows stop short of the
 * range's top without a break, the next row stored above it (so a gap is reported without
 * reading the empty seqs after it range by range); the connection is closed after each job
 * (nothing stays open on a file between verifications). Any error goes back as the job's
 * failure.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { hash } = require('node:crypto');
${RANGE_CHECK}
function* chunksOf(conn, job) {
  const stmt = conn.prepare(job.sql).raw(true);
  for (let lo = job.afterSeq; lo < job.toSeq; lo += ${CHUNK}) yield stmt.all(lo, Math.min(lo + ${CHUNK}, job.toSeq));
}
parentPort.on('message', (job) => {
  let conn = null;
  try {
    const Database = require(workerData.driver);
    conn = new Database(job.path, { readonly: true, fileMustExist: true });
    conn.pragma('busy_timeout = 5000');
    conn.exec('BEGIN');
    const result = checkRange(chunksOf(conn, job), job.signed);
    const { run } = result;
    if (result.signedMismatch === null && (run === null || (run.failure === null && run.last.seq < job.toSeq))) {
      const next = conn.prepare(job.sql).raw(true).get(job.toSeq, job.headSeq);
      result.beyond = next === undefined ? null : [next[0], next[19]];
    }
    conn.exec('COMMIT');
    parentPort.postMessage({ id: job.id, result });
  } catch (err) {
    parentPort.postMessage({ id: job.id, error: String((err && err.stack) || err) });
  } finally {
    if (conn) {
      try { conn.close(); } catch { /* closing is all that is left to do */ }
    }
  }
});
`;

/**
 * `checkRange` of the workers' program, compiled in this thread: the tests hold it equal to
 * the TypeScript it mirrors.
 */
export function rangeCheckInThisThread(): {
  checkRange(chunks: Iterable<readonly unknown[][]>, signed: ReadonlyArray<readonly [number, string]>): RangeResult;
  canonicalRow(row: readonly unknown[]): string;
} {
  return new Function('hash', 'Buffer', `${RANGE_CHECK}\nreturn { checkRange, canonicalRow };`)(hash, Buffer) as ReturnType<typeof rangeCheckInThisThread>;
}

interface Job {
  readonly resolve: (result: RangeResult) => void;
  readonly reject: (err: Error) => void;
}

class RangeWorker {
  readonly jobs = new Map<number, Job>();
  private dead: Error | null = null;

  constructor(
    private readonly worker: Worker,
    private readonly onDead: (w: RangeWorker) => void,
    private readonly onIdle: () => void,
  ) {
    worker.unref();
    worker.on('message', (m: { id: number; result?: RangeResult; error?: string }) => {
      const job = this.jobs.get(m.id);
      if (!job) return;
      this.jobs.delete(m.id);
      if (this.jobs.size === 0) {
        worker.unref();
        this.onIdle();
      }
      if (m.result) job.resolve(m.result);
      else job.reject(new Error(`a range worker failed: ${m.error ?? 'no result'}`));
    });
    worker.on('error', (err) => this.die(new Error(`a range worker failed: ${err.message}`, { cause: err })));
    worker.on('exit', (code) => this.die(new Error(`a range worker stopped (exit code ${code}) before it answered`)));
  }

  post(id: number, job: RangeJob, waiter: Job): void {
    if (this.dead) {
      waiter.reject(this.dead);
      return;
    }
    this.jobs.set(id, waiter);
    this.worker.ref();
    this.worker.postMessage({ id, ...job });
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
 * Worker threads that each read and check whole seq ranges of a SQLite chain (`RangeJob`).
 * Jobs go to the worker with the fewest outstanding. A worker that throws or exits fails
 * every job it holds (the verification with them) and is replaced on the next job. Idle
 * workers do not keep the process alive, and stop after `idleMs` without work.
 */
export class RangePool implements RangeChecker {
  private readonly workers: RangeWorker[] = [];
  private nextId = 1;
  private idleTimer: NodeJS.Timeout | null = null;
  private readonly driver = createRequire(import.meta.url).resolve('better-sqlite3');

  constructor(
    readonly size: number,
    private readonly source: string = WORKER_SOURCE,
    private readonly idleMs = 1_000,
  ) {}

  check(job: RangeJob): Promise<RangeResult> {
    if (this.idleTimer) {
      clearTimeout(this.idleTimer);
      this.idleTimer = null;
    }
    return new Promise<RangeResult>((resolve, reject) => {
      this.pick().post(this.nextId++, job, { resolve, reject });
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

  private pick(): RangeWorker {
    while (this.workers.length < this.size) {
      const worker = new Worker(this.source, { eval: true, workerData: { driver: this.driver } });
      this.workers.push(new RangeWorker(worker, (dead) => this.forget(dead), () => this.idled()));
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

  private forget(dead: RangeWorker): void {
    const i = this.workers.indexOf(dead);
    if (i >= 0) this.workers.splice(i, 1);
  }
}

let shared: RangePool | null = null;

/** The process's pool of two range workers, started on first use. */
export function sharedRangePool(): RangePool {
  shared ??= new RangePool(2);
  return shared;
}

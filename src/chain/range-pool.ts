import { hash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { PooledReply } from '../lib/worker-pool.js';
import { WorkerPool } from '../lib/worker-pool.js';
import type { CheckedRun } from './chain-verifier.js';
import { BAD_TIME, HASH_MISMATCH, PREV_HASH_MISMATCH } from './chain-verifier.js';
import { ISO_TIME_FORMATTER_SOURCE } from './iso-time.js';

/**
 * Where a range worker reads the chain's rows, on a connection of its own: a SQLite database
 * file (each range in a read transaction of its own), or a PostgreSQL snapshot exported by an
 * open transaction (`pg_export_snapshot()`), imported by the worker's client so that every
 * range reads that one snapshot. The connection string may hold a secret: it is never put in
 * an error or a log line.
 */
export type RangeReader =
  | { readonly kind: 'sqlite'; readonly path: string }
  | {
      readonly kind: 'postgres';
      /** As the store's pool connects (the `schema` parameter already taken off). */
      readonly connectionString: string;
      /** The schema the store works in (its `search_path`); null for the server's default. */
      readonly schema: string | null;
      /** The exported snapshot's id; the exporting transaction stays open until the walk ends. */
      readonly snapshot: string;
    };

/** One seq range of the stored chain for a worker to read and check on a connection of its own. */
export interface RangeJob {
  readonly reader: RangeReader;
  /** The rows with `? < seq <= ?` (placeholders `?`) in ascending seq, every column of `audit_entries` in `EntryTuple` order. */
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
  /**
   * The walk that read through `reader` is over: workers give back what they hold open for it
   * (a PostgreSQL client in the imported snapshot). Optional; idle workers stop anyway.
   */
  release?(reader: RangeReader): void;
}

/**
 * The check of one range, as plain JavaScript (a worker cannot load a .ts file in plain Node;
 * see `HashPool`). It needs `hash` (node:crypto) and `Buffer` in scope and defines
 * `RangeCheck` (fed chunks of rows in ascending seq, with `signed` a list of (seq, hash)), and
 * `checkRange(chunks, signed)` over an iterable of chunks.
 *
 * It splices in `IsoTimeFormatter` as text (iso-time.ts), and mirrors, and must stay equal
 * to: `canonicalTuple` and its `ts` cache (entry-hash.ts), the byte layout of `encodeBatch`
 * (verify-stored-chain.ts: `prev_hash` written as hex, stopping at the first byte that is not
 * hex, then the canonical text as UTF-8), `isTime` and the checks of `ChainVerifier.check`, in
 * the same order. From
 * the second row of a range on, each row is checked against the row before it; the first
 * row's seq and `prev_hash` are left to `ChainVerifier.pushRun`. Tests hold it equal to the
 * TypeScript (`canonicalTuple`, and `ChainVerifier` over random and tampered chains).
 */
const RANGE_CHECK = `
${ISO_TIME_FORMATTER_SOURCE}
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
/**
 * The check of one range, fed its rows in chunks in ascending seq: \`push(rows)\` returns false
 * once the range has broken (feed no more), \`result()\` gives what was found.
 */
class RangeCheck {
  constructor(signed) {
    this.expected = signed.length > 0 ? new Map(signed) : null;
    this.first = null;
    this.passed = 0;
    this.prevSeq = 0;
    this.prevHash = '';
    this.failure = null;
    this.signedMismatch = null;
  }
  push(rows) {
    const expected = this.expected;
    let prevSeq = this.prevSeq;
    let prevHash = this.prevHash;
    let passed = this.passed;
    let going = true;
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i];
      const seq = r[0];
      if (this.first === null) {
        this.first = [seq, r[19]];
      } else {
        const next = prevSeq + 1;
        if (seq !== next) {
          this.failure = seq > next
            ? { seq: next, reason: 'seq ' + next + ' is missing (next stored is ' + seq + ')' }
            : { seq, reason: 'seq ' + seq + ' is out of order' };
          going = false;
          break;
        }
        if (r[19] !== prevHash) {
          this.failure = { seq, reason: ${JSON.stringify(PREV_HASH_MISMATCH)}};
          going = false;
          break;
        }
      }
      const occurredAt = r[3];
      if (!isTime(r[2]) || (occurredAt !== null && !isTime(occurredAt))) {
        this.failure = { seq, reason: ${JSON.stringify(BAD_TIME)}};
        going = false;
        break;
      }
      const h = r[20];
      if (rowHash(r) !== h) {
        this.failure = { seq, reason: ${JSON.stringify(HASH_MISMATCH)}};
        going = false;
        break;
      }
      prevSeq = seq;
      prevHash = h;
      passed += 1;
      if (expected !== null) {
        const s = expected.get(seq);
        if (s !== undefined && s !== h) {
          this.signedMismatch = seq;
          going = false;
          break;
        }
      }
    }
    this.prevSeq = prevSeq;
    this.prevHash = prevHash;
    this.passed = passed;
    return going;
  }
  result() {
    const { first, passed, prevSeq, prevHash, failure } = this;
    return {
      run: first === null ? null : { first, passed, last: passed > 0 ? { seq: prevSeq, hash: prevHash } : null, failure },
      signedMismatch: this.signedMismatch,
    };
  }
}
function checkRange(chunks, signed) {
  const check = new RangeCheck(signed);
  for (const rows of chunks) if (!check.push(rows)) break;
  return check.result();
}
/** Whether a range that raised nothing stops short of its top: then the next stored row above it is wanted. */
function wantsBeyond(result, toSeq) {
  const { run } = result;
  return result.signedMismatch === null && (run === null || (run.failure === null && run.last.seq < toSeq));
}
`;

/** Rows per statement inside a range (one read transaction): small arrays die young. */
const CHUNK = 512;
/** Longest a PostgreSQL range worker waits for a lock (lock_timeout) before its range fails with lock_not_available. */
const PG_LOCK_TIMEOUT_MS = 2_000;
/** Rows per fetch from a PostgreSQL range's portal: each is a round trip, and the next is read while one is checked. */
const PG_CHUNK = 1_024;

/**
 * The worker's program, with a reader for each kind of `RangeReader`; jobs run one at a time,
 * in the order they came. Each range is read in chunks of seqs in array mode and checked by
 * `RangeCheck`; when its rows stop short of the range's top without a break, the next row
 * stored above it is read too (so a gap is reported without reading the empty seqs after it
 * range by range). Any error goes back as the job's failure, with the connection string's
 * secrets taken out.
 *
 * - SQLite: a read-only connection on the file per job, one read transaction over the range
 *   (so the range is one consistent view), closed after the job (nothing stays open on a file
 *   between verifications).
 * - PostgreSQL: one client at a time, in `REPEATABLE READ, READ ONLY` with the exported
 *   snapshot imported (`SET TRANSACTION SNAPSHOT`), kept for the next range of the same
 *   snapshot, ended on `release`, on another snapshot, on any failure, and when the worker
 *   stops (idle). Each range is one statement read through a portal (pg-cursor), rows in array
 *   mode with int8/numeric parsed to numbers as the store's pool parses them; the next chunk
 *   is asked for before this one is checked. Lock waits end after `PG_LOCK_TIMEOUT_MS`
 *   (the range then fails with the server's code, 55P03).
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { hash } = require('node:crypto');
${RANGE_CHECK}
function checkSqlite(job) {
  let conn = null;
  try {
    const Database = require(workerData.driver);
    conn = new Database(job.reader.path, { readonly: true, fileMustExist: true });
    conn.pragma('busy_timeout = 5000');
    conn.exec('BEGIN');
    const stmt = conn.prepare(job.sql).raw(true);
    const check = new RangeCheck(job.signed);
    for (let lo = job.afterSeq; lo < job.toSeq; lo += ${CHUNK}) {
      if (!check.push(stmt.all(lo, Math.min(lo + ${CHUNK}, job.toSeq)))) break;
    }
    const result = check.result();
    if (wantsBeyond(result, job.toSeq)) {
      const next = stmt.get(job.toSeq, job.headSeq);
      result.beyond = next === undefined ? null : [next[0], next[19]];
    }
    conn.exec('COMMIT');
    return result;
  } finally {
    if (conn) {
      try { conn.close(); } catch { /* closing is all that is left to do */ }
    }
  }
}
let pg = null;
let Cursor = null;
const pgTypes = {
  getTypeParser(oid, format) {
    // int8 and numeric as JS numbers, as the store's pool reads them.
    if (oid === 20 || oid === 1700) return Number;
    return pg.types.getTypeParser(oid, format);
  },
};
/** The PostgreSQL client held open in an imported snapshot: { key, client }. */
let held = null;
function endHeld() {
  const h = held;
  held = null;
  if (h) return h.client.end().catch(() => undefined);
  return undefined;
}
async function clientFor(reader) {
  const key = reader.connectionString + '\\u0000' + reader.schema + '\\u0000' + reader.snapshot;
  if (held && held.key === key) return held.client;
  await endHeld();
  pg ??= require(workerData.pg);
  const client = new pg.Client({
    connectionString: reader.connectionString,
    options: reader.schema ? '-c search_path=' + reader.schema : undefined,
    connectionTimeoutMillis: 10000,
    application_name: 'trailmark verify range',
    types: pgTypes,
  });
  const h = { key, client };
  // A lost connection must not end the thread: the job using it fails, and the next one connects again.
  client.on('error', () => { if (held === h) held = null; });
  try {
    await client.connect();
  } catch (err) {
    client.end().catch(() => undefined);
    throw new Error('could not connect to PostgreSQL to read the verify snapshot: ' + ((err && err.message) || err));
  }
  try {
    // A lock wait is bounded: the exporting transaction holds its locks until the walk ends, so
    // a lock request queued behind it (a partition created or dropped) would otherwise wait for
    // this client, which waits for it.
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY; SET TRANSACTION SNAPSHOT ' + client.escapeLiteral(reader.snapshot) + "; SET LOCAL lock_timeout = '${PG_LOCK_TIMEOUT_MS}ms'");
  } catch (err) {
    client.end().catch(() => undefined);
    throw new Error('could not import the verify snapshot on PostgreSQL: ' + ((err && err.message) || err));
  }
  held = h;
  return client;
}
const numbered = (sql) => { let n = 0; return sql.replace(/\\?/g, () => '$' + ++n); };
async function checkPostgres(job) {
  const client = await clientFor(job.reader);
  try {
    const text = numbered(job.sql);
    // One statement over the range, read through a portal chunk by chunk: planned once, and
    // the next chunk is asked for before this one is checked.
    Cursor ??= require(workerData.cursor);
    const cursor = client.query(new Cursor(text, [job.afterSeq, job.toSeq], { rowMode: 'array', types: pgTypes }));
    const read = () => {
      const p = cursor.read(${PG_CHUNK});
      // Read ahead: a failure is reported when the chunk is taken, not as an unhandled rejection.
      p.catch(() => undefined);
      return p;
    };
    const check = new RangeCheck(job.signed);
    let next = read();
    while (next !== null) {
      const rows = await next;
      next = rows.length === ${PG_CHUNK} ? read() : null;
      if (rows.length > 0 && !check.push(rows)) break;
    }
    if (next !== null) await next;
    await cursor.close();
    const result = check.result();
    if (wantsBeyond(result, job.toSeq)) {
      const { rows } = await client.query({ name: 'trailmark_verify_beyond', text: text + ' LIMIT 1', values: [job.toSeq, job.headSeq], rowMode: 'array', types: pgTypes });
      result.beyond = rows.length === 0 ? null : [rows[0][0], rows[0][19]];
    }
    return result;
  } catch (err) {
    // Whatever state the client is in, the next range starts on a new one.
    await endHeld();
    throw err;
  }
}
/** The connection string's secrets (the whole string, its password) taken out of a text. */
function scrub(text, reader) {
  if (!reader || reader.kind !== 'postgres') return text;
  const secrets = [reader.connectionString];
  try {
    const u = new URL(reader.connectionString);
    for (const s of [u.password, u.searchParams.get('password')]) {
      if (s) secrets.push(s, decodeURIComponent(s));
    }
  } catch { /* not a URL: the whole string is still taken out */ }
  let out = text;
  for (const s of secrets) if (s) out = out.split(s).join('***');
  return out;
}
async function run(job) {
  try {
    const result = job.reader.kind === 'postgres' ? await checkPostgres(job) : checkSqlite(job);
    parentPort.postMessage({ id: job.id, result });
  } catch (err) {
    const code = err && typeof err.code === 'string' ? err.code : undefined;
    parentPort.postMessage({ id: job.id, error: scrub(String((err && err.stack) || err), job.reader), code });
  }
}
async function release(snapshot) {
  if (held && held.key.endsWith('\\u0000' + snapshot)) await endHeld();
}
let tail = Promise.resolve();
parentPort.on('message', (m) => {
  tail = tail.then(() => (m.release !== undefined ? release(m.release) : run(m)));
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

/**
 * Worker threads that each read and check whole seq ranges of a stored chain (`RangeJob`):
 * a SQLite file, or a PostgreSQL snapshot. Jobs go to the worker with the fewest
 * outstanding. A worker that throws or exits fails every job it holds (the verification with
 * them) and is replaced on the next job. Idle workers do not keep the process alive, and stop
 * after `idleMs` without work (a PostgreSQL client a worker still held ends with it).
 */
export class RangePool implements RangeChecker {
  private readonly pool: WorkerPool<RangeResult>;

  constructor(
    readonly size: number,
    source: string = WORKER_SOURCE,
    idleMs = 1_000,
  ) {
    // The drivers are loaded in the worker by path (the worker's `require` does not resolve from this module).
    const require = createRequire(import.meta.url);
    const drivers = { driver: require.resolve('better-sqlite3'), pg: require.resolve('pg'), cursor: require.resolve('pg-cursor') };
    this.pool = new WorkerPool(size, { name: 'range worker', source, workerData: drivers, result: (m) => (m as PooledReply & { result?: RangeResult }).result }, idleMs);
  }

  check(job: RangeJob): Promise<RangeResult> {
    return this.pool.run(job);
  }

  /** Asks every worker to end what it holds open for a PostgreSQL snapshot (after the jobs it has). */
  release(reader: RangeReader): void {
    if (reader.kind === 'postgres') this.pool.tellAll({ release: reader.snapshot });
  }

  /** Stops every worker; their outstanding jobs fail. */
  close(): Promise<void> {
    return this.pool.close();
  }

  /** The running workers (tests stop one to see a verification fail). */
  get threads(): WorkerPool<RangeResult>['threads'] {
    return this.pool.threads;
  }
}

let shared: RangePool | null = null;

/** The process's pool of two range workers, started on first use. */
export function sharedRangePool(): RangePool {
  shared ??= new RangePool(2);
  return shared;
}

import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Database as Connection, Statement } from 'better-sqlite3';
import type { BatchTarget, GuardedBatchPlan, GuardedBatchResult, SqlParams, SqlStatement } from '../sql-database.js';

/** Pragmas every read-write Trailmark connection gets, on whichever thread opens it. */
export const WRITE_PRAGMAS = [
  'busy_timeout = 5000',
  'journal_mode = WAL',
  // FULL: a commit is fsynced before it returns, so an acknowledged append survives power loss.
  'synchronous = FULL',
  'foreign_keys = ON',
] as const;

/** An error raised by SQLite, with its extended result code (`SQLITE_FULL`, …). */
export class SqliteError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'SqliteError';
  }
}

/**
 * The connection that writes. Statements run one at a time in the order they are called;
 * the caller (SqliteDatabase) holds its lock around each transaction.
 */
export interface SqliteWriter {
  all<T>(sql: string, params: SqlParams): Promise<T[]>;
  get<T>(sql: string, params: SqlParams): Promise<T | undefined>;
  /** Resolves with the number of rows changed. */
  run(sql: string, params: SqlParams): Promise<number>;
  exec(script: string): Promise<void>;
  /** Rolls back the open transaction, if there is one. */
  rollbackIfOpen(): Promise<void>;
  /**
   * BEGIN IMMEDIATE and check the guard; the statements written run as they arrive, and
   * `commit` writes the final statement and COMMITs (or reports the guard row found). Every
   * call hands its work to the writer before it returns (a returned promise only waits for
   * the outcome), and the writer runs work in the order it was handed over: the caller holds
   * the lock from the begin until it has called `commit` or `abort`.
   */
  beginBatch(plan: GuardedBatchPlan): BatchTarget;
  close(): Promise<void>;
}

class StatementCache {
  private readonly cache = new Map<string, Statement>();
  constructor(private readonly conn: Connection) {}
  get(sql: string): Statement {
    let stmt = this.cache.get(sql);
    if (!stmt) {
      stmt = this.conn.prepare(sql);
      if (this.cache.size > 500) this.cache.clear();
      this.cache.set(sql, stmt);
    }
    return stmt;
  }
}

/** Statements on a connection of this thread (reads, and the writer of an in-memory database). */
export class ConnectionStatements {
  private readonly stmts: StatementCache;
  constructor(readonly conn: Connection) {
    this.stmts = new StatementCache(conn);
  }
  prepared(sql: string): Statement {
    return this.stmts.get(sql);
  }
  all<T>(sql: string, params: SqlParams): T[] {
    return this.stmts.get(sql).all(...params) as T[];
  }
  get<T>(sql: string, params: SqlParams): T | undefined {
    return this.stmts.get(sql).get(...params) as T | undefined;
  }
  run(sql: string, params: SqlParams): number {
    const stmt = this.stmts.get(sql);
    if (!stmt.reader) return stmt.run(...params).changes;
    stmt.all(...params);
    return 0;
  }
}

/** The writer on the calling thread: used for `:memory:` databases, which a thread cannot share. */
export class InlineWriter implements SqliteWriter {
  constructor(private readonly statements: ConnectionStatements) {}
  all<T>(sql: string, params: SqlParams): Promise<T[]> {
    return Promise.resolve(this.statements.all<T>(sql, params));
  }
  get<T>(sql: string, params: SqlParams): Promise<T | undefined> {
    return Promise.resolve(this.statements.get<T>(sql, params));
  }
  run(sql: string, params: SqlParams): Promise<number> {
    return Promise.resolve(this.statements.run(sql, params));
  }
  exec(script: string): Promise<void> {
    this.statements.conn.exec(script);
    return Promise.resolve();
  }
  rollbackIfOpen(): Promise<void> {
    if (this.statements.conn.inTransaction) this.statements.conn.exec('ROLLBACK');
    return Promise.resolve();
  }
  beginBatch(plan: GuardedBatchPlan): BatchTarget {
    const batch = openBatch(this.statements.conn, (sql) => this.statements.prepared(sql), plan.guard);
    return {
      write: (statements) => batch.write(statements),
      commit: (statements, final) => {
        try {
          batch.write(statements);
          return Promise.resolve(batch.end(final, true) as GuardedBatchResult);
        } catch (err) {
          return Promise.reject(err as Error);
        }
      },
      abort: () => {
        try {
          batch.end(null, false);
        } catch {
          // It had failed already: rolled back either way.
        }
        return Promise.resolve();
      },
    };
  }
  close(): Promise<void> {
    this.statements.conn.close();
    return Promise.resolve();
  }
}

type Op = 'all' | 'get' | 'run' | 'exec' | 'rollback' | 'batch' | 'batch-begin' | 'batch-write' | 'batch-commit' | 'batch-abort' | 'close';
/** Operations the writer thread does not answer: their failures are reported by the batch's commit. */
const UNANSWERED: ReadonlySet<Op> = new Set(['batch-begin', 'batch-write']);
interface Reply {
  readonly id: number;
  readonly result?: unknown;
  readonly error?: { readonly message: string; readonly code: string | null };
}

/*
 * One guarded batch on a connection, as plain JavaScript: the writer thread runs this text,
 * and the in-memory writer turns the same text into a function, so both run one routine.
 * BEGIN IMMEDIATE and the guard check come first; statements then run as they arrive; a
 * failure rolls back at once and is reported by `end`, which writes `final` and commits
 * (or rolls back when `commit` is false).
 */
const BATCH_ROUTINE = `
function openBatch(conn, statement, guard) {
  let found;
  let holds = false;
  let error = null;
  const fail = (err) => {
    error = err;
    if (conn.inTransaction) conn.exec('ROLLBACK');
  };
  const run = (statements) => {
    for (const [text, values] of statements) {
      const stmt = statement(text);
      if (stmt.reader) stmt.all(...values); else stmt.run(...values);
    }
  };
  try {
    conn.exec('BEGIN IMMEDIATE');
    found = statement(guard.sql).get(...guard.params);
    holds = found !== undefined && Object.keys(guard.expect).every((k) => found[k] === guard.expect[k]);
    if (!holds) conn.exec('ROLLBACK');
  } catch (err) {
    fail(err);
  }
  return {
    write(statements) {
      if (!holds || error) return;
      try { run(statements); } catch (err) { fail(err); }
    },
    end(final, commit) {
      if (error) throw error;
      if (!holds) return { applied: false, found };
      if (!commit) { conn.exec('ROLLBACK'); return undefined; }
      try { run([final]); conn.exec('COMMIT'); } catch (err) { fail(err); throw err; }
      return { applied: true };
    },
  };
}
`;

interface OpenBatch {
  write(statements: readonly SqlStatement[]): void;
  end(final: SqlStatement | null, commit: boolean): GuardedBatchResult | undefined;
}
// The routine is our own constant text (see BATCH_ROUTINE), turned into a function once.
const openBatch = new Function(`${BATCH_ROUTINE}; return openBatch;`)() as (conn: Connection, statement: (sql: string) => Statement, guard: GuardedBatchPlan['guard']) => OpenBatch;

/*
 * The writer thread's program. Plain JavaScript run with `eval`, so the same text works from
 * the compiled build, under tsx and under the test runner (a worker cannot load a .ts file in
 * plain Node). It owns one better-sqlite3 connection and runs each request synchronously, in
 * arrival order; every failure goes back with SQLite's code.
 */
const WRITER_THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
let conn;
let openError = null;
try {
  const Database = require(workerData.driver);
  conn = new Database(workerData.path);
  for (const p of workerData.pragmas) conn.pragma(p);
} catch (err) {
  openError = err;
}
const cache = new Map();
function statement(sql) {
  let stmt = cache.get(sql);
  if (!stmt) {
    stmt = conn.prepare(sql);
    if (cache.size > 500) cache.clear();
    cache.set(sql, stmt);
  }
  return stmt;
}
${BATCH_ROUTINE}
let batch = null;
function endBatch(final, commit) {
  const b = batch;
  batch = null;
  if (!b) throw openError || new Error('no batch is open');
  return b.end(final, commit);
}
function perform(op, sql, params) {
  if (openError && op !== 'close') throw openError;
  switch (op) {
    case 'all': return statement(sql).all(...params);
    case 'get': return statement(sql).get(...params);
    case 'run': {
      const stmt = statement(sql);
      if (stmt.reader) { stmt.all(...params); return 0; }
      return stmt.run(...params).changes;
    }
    case 'exec': conn.exec(sql); return undefined;
    case 'rollback': if (conn.inTransaction) conn.exec('ROLLBACK'); return undefined;
    case 'batch': {
      // A whole batch in one message: begin, statements, final, commit.
      batch = openBatch(conn, statement, params.guard);
      batch.write(params.statements);
      return endBatch(params.final, true);
    }
    case 'batch-begin': batch = openBatch(conn, statement, params.guard); batch.write(params.statements); return undefined;
    case 'batch-write': if (batch) batch.write(params); return undefined;
    case 'batch-commit': if (batch) batch.write(params.statements); return endBatch(params.final, true);
    case 'batch-abort': try { endBatch(null, false); } catch {} return undefined;
    case 'close': if (conn) conn.close(); return undefined;
    default: throw new Error('unknown writer operation ' + op);
  }
}
const unanswered = new Set(${JSON.stringify([...UNANSWERED])});
parentPort.on('message', (m) => {
  try {
    const result = perform(m.op, m.sql, m.params);
    if (!unanswered.has(m.op)) parentPort.postMessage({ id: m.id, result });
  } catch (err) {
    if (!unanswered.has(m.op)) parentPort.postMessage({ id: m.id, error: { message: String(err && err.message || err), code: typeof (err && err.code) === 'string' ? err.code : null } });
  }
  if (m.op === 'close') parentPort.close();
});
`;

/**
 * The writer connection on a thread of its own. Inserting entries, updating the full-text
 * index and the fsync of each commit then run beside request handling instead of stopping
 * it: the request thread only sends statements and their parameters. The worker is
 * referenced only while a request is outstanding, so an idle database never holds the
 * process open.
 */
export class WorkerWriter implements SqliteWriter {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private stopped: Error | null = null;

  /** `extraPragmas` run after WRITE_PRAGMAS (e.g. a larger `wal_autocheckpoint` beside a checkpointer thread). */
  constructor(path: string, extraPragmas: readonly string[] = []) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WRITER_THREAD, { eval: true, workerData: { path, driver, pragmas: [...WRITE_PRAGMAS, ...extraPragmas] } });
    this.worker.unref();
    this.worker.on('message', (reply: Reply) => this.settle(reply));
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', (code) => this.fail(new Error(`the SQLite writer thread stopped (exit code ${code})`)));
  }

  /** Sends an operation the thread does not answer (see UNANSWERED). */
  private send(op: Op, params: unknown): void {
    if (!this.stopped) this.worker.postMessage({ id: 0, op, sql: '', params });
  }

  private call<T>(op: Op, sql = '', params: unknown = []): Promise<T> {
    if (this.stopped) return Promise.reject(this.stopped);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ id, op, sql, params });
    });
  }

  private settle(reply: Reply): void {
    const waiter = this.pending.get(reply.id);
    if (!waiter) return;
    this.pending.delete(reply.id);
    if (this.pending.size === 0) this.worker.unref();
    if (reply.error) {
      waiter.reject(reply.error.code ? new SqliteError(reply.error.message, reply.error.code) : new Error(reply.error.message));
    } else {
      waiter.resolve(reply.result);
    }
  }

  private fail(err: Error): void {
    if (!this.stopped) this.stopped = err;
    for (const waiter of this.pending.values()) waiter.reject(this.stopped);
    this.pending.clear();
  }

  all<T>(sql: string, params: SqlParams): Promise<T[]> {
    return this.call<T[]>('all', sql, params);
  }
  get<T>(sql: string, params: SqlParams): Promise<T | undefined> {
    return this.call<T | undefined>('get', sql, params);
  }
  run(sql: string, params: SqlParams): Promise<number> {
    return this.call<number>('run', sql, params);
  }
  exec(script: string): Promise<void> {
    return this.call<void>('exec', script);
  }
  rollbackIfOpen(): Promise<void> {
    return this.call<void>('rollback');
  }
  /**
   * One message per part: the first part carries the begin (guard), the last the commit; a
   * batch committed without earlier parts is a single message. Every message wakes the
   * writer thread, which on a busy machine costs more than the copy.
   */
  beginBatch(plan: GuardedBatchPlan): BatchTarget {
    let begun = false;
    return {
      write: (statements) => {
        if (begun) {
          this.send('batch-write', statements);
        } else {
          begun = true;
          this.send('batch-begin', { guard: plan.guard, statements });
        }
      },
      commit: (statements, final) =>
        begun ? this.call<GuardedBatchResult>('batch-commit', '', { statements, final }) : this.call<GuardedBatchResult>('batch', '', { guard: plan.guard, statements, final }),
      abort: () => (begun ? this.call<void>('batch-abort') : Promise.resolve()),
    };
  }
  async close(): Promise<void> {
    if (this.stopped) return;
    await this.call<void>('close');
    this.stopped = new Error('the database is closed');
    await this.worker.terminate();
  }
}

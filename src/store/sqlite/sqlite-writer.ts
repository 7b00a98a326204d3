import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Database as Connection, Statement } from 'better-sqlite3';
import type { GuardedBatch, GuardedBatchResult, SqlParams, SqlValue } from '../sql-database.js';
import { guardHolds } from '../sql-database.js';

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
  /** BEGIN IMMEDIATE, check the guard, run the statements, COMMIT — as one request. */
  batch(batch: GuardedBatch): Promise<GuardedBatchResult>;
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
  batch(batch: GuardedBatch): Promise<GuardedBatchResult> {
    const conn = this.statements.conn;
    conn.exec('BEGIN IMMEDIATE');
    try {
      const found = this.statements.get<Record<string, SqlValue>>(batch.guard.sql, batch.guard.params);
      if (!guardHolds(found, batch.guard.expect)) {
        conn.exec('ROLLBACK');
        return Promise.resolve({ applied: false, found });
      }
      for (const [sql, params] of batch.statements) this.statements.run(sql, params);
      this.statements.run(...batch.final);
      conn.exec('COMMIT');
      return Promise.resolve({ applied: true });
    } catch (err) {
      if (conn.inTransaction) conn.exec('ROLLBACK');
      return Promise.reject(err as Error);
    }
  }
  close(): Promise<void> {
    this.statements.conn.close();
    return Promise.resolve();
  }
}

type Op = 'all' | 'get' | 'run' | 'exec' | 'rollback' | 'batch' | 'close';
interface Reply {
  readonly id: number;
  readonly result?: unknown;
  readonly error?: { readonly message: string; readonly code: string | null };
}

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
function perform(op, sql, params) {
  if (openError) throw openError;
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
      const b = params;
      conn.exec('BEGIN IMMEDIATE');
      try {
        const found = statement(b.guard.sql).get(...b.guard.params);
        if (!found || Object.keys(b.guard.expect).some((k) => found[k] !== b.guard.expect[k])) {
          conn.exec('ROLLBACK');
          return { applied: false, found };
        }
        for (const [text, values] of [...b.statements, b.final]) {
          const stmt = statement(text);
          if (stmt.reader) stmt.all(...values); else stmt.run(...values);
        }
        conn.exec('COMMIT');
        return { applied: true };
      } catch (err) {
        if (conn.inTransaction) conn.exec('ROLLBACK');
        throw err;
      }
    }
    case 'close': if (conn) conn.close(); return undefined;
    default: throw new Error('unknown writer operation ' + op);
  }
}
parentPort.on('message', (m) => {
  try {
    parentPort.postMessage({ id: m.id, result: perform(m.op, m.sql, m.params) });
  } catch (err) {
    parentPort.postMessage({ id: m.id, error: { message: String(err && err.message || err), code: typeof (err && err.code) === 'string' ? err.code : null } });
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

  constructor(path: string) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WRITER_THREAD, { eval: true, workerData: { path, driver, pragmas: [...WRITE_PRAGMAS] } });
    this.worker.unref();
    this.worker.on('message', (reply: Reply) => this.settle(reply));
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', (code) => this.fail(new Error(`the SQLite writer thread stopped (exit code ${code})`)));
  }

  private call<T>(op: Op, sql = '', params: SqlParams | GuardedBatch = []): Promise<T> {
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
  batch(batch: GuardedBatch): Promise<GuardedBatchResult> {
    return this.call<GuardedBatchResult>('batch', '', batch);
  }
  async close(): Promise<void> {
    if (this.stopped) return;
    await this.call<void>('close');
    this.stopped = new Error('the database is closed');
    await this.worker.terminate();
  }
}

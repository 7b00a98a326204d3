import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Database as Connection, Statement } from 'better-sqlite3';
import { AsyncMutex } from '../../lib/async-mutex.js';
import type { ReadSnapshot, SqlDatabase, SqlExecutor, SqlParams } from '../sql-database.js';
import { sqliteDialect } from './sqlite-dialect.js';

/** Opens a connection with the pragmas every Trailmark connection needs. */
export function openSqliteConnection(path: string, readonly = false): Connection {
  if (path !== ':memory:' && !readonly) mkdirSync(dirname(path), { recursive: true });
  const conn = new Database(path, { readonly, fileMustExist: readonly });
  conn.pragma('busy_timeout = 5000');
  if (!readonly) {
    conn.pragma('journal_mode = WAL');
    // FULL: a commit is fsynced before it returns, so an acknowledged append survives power loss.
    conn.pragma('synchronous = FULL');
  }
  conn.pragma('foreign_keys = ON');
  return conn;
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

class SqliteExecutor implements SqlExecutor {
  readonly dialect = sqliteDialect;
  constructor(
    private readonly conn: Connection,
    private readonly stmts: StatementCache,
  ) {}

  exec(script: string): Promise<void> {
    this.conn.exec(script);
    return Promise.resolve();
  }

  all<T>(sql: string, params: SqlParams = []): Promise<T[]> {
    return Promise.resolve(this.stmts.get(sql).all(...params) as T[]);
  }

  get<T>(sql: string, params: SqlParams = []): Promise<T | undefined> {
    return Promise.resolve(this.stmts.get(sql).get(...params) as T | undefined);
  }

  run(sql: string, params: SqlParams = []): Promise<number> {
    const stmt = this.stmts.get(sql);
    if (!stmt.reader) return Promise.resolve(stmt.run(...params).changes);
    stmt.all(...params);
    return Promise.resolve(0);
  }
}

/**
 * A read transaction on a connection of its own. In WAL mode it sees the database as of its
 * first read and never blocks the writer (the WAL only cannot be checkpointed past it while
 * it lasts). An in-memory database has one connection: there every statement runs to the end
 * at once, which is what the data being in memory already costs.
 */
class SqliteSnapshot implements ReadSnapshot {
  private active: IterableIterator<unknown[]> | null = null;
  private closed = false;

  constructor(
    private readonly conn: Connection,
    private readonly shared: boolean,
    private readonly release: (conn: Connection) => void,
  ) {
    if (!shared) conn.exec('BEGIN');
  }

  all<T>(sql: string, params: SqlParams = []): Promise<T[]> {
    return Promise.resolve(this.conn.prepare(sql).all(...params) as T[]);
  }

  async *stream(sql: string, params: SqlParams, batchSize: number): AsyncGenerator<unknown[][]> {
    if (this.active) throw new Error('a snapshot streams one statement at a time');
    const stmt = this.conn.prepare(sql).raw(true);
    if (this.shared) {
      const rows = stmt.all(...params) as unknown[][];
      for (let i = 0; i < rows.length; i += batchSize) yield rows.slice(i, i + batchSize);
      return;
    }
    const it = stmt.iterate(...params) as IterableIterator<unknown[]>;
    this.active = it;
    try {
      for (;;) {
        const batch: unknown[][] = [];
        let r = it.next();
        while (!r.done) {
          batch.push(r.value);
          if (batch.length >= batchSize) break;
          r = it.next();
        }
        if (batch.length > 0) yield batch;
        if (r.done) return;
      }
    } finally {
      this.active = null;
      it.return?.();
    }
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    this.active?.return?.();
    this.active = null;
    if (!this.shared) {
      try {
        if (this.conn.inTransaction) this.conn.exec('COMMIT');
        this.release(this.conn);
      } catch {
        this.conn.close();
      }
    }
    return Promise.resolve();
  }
}

/**
 * SQLite behind the async `SqlDatabase` interface. One writer connection, guarded by a
 * FIFO lock so a transaction's statements never interleave with another's; reads outside
 * a transaction use a second connection, which WAL lets run beside the writer.
 */
export class SqliteDatabase implements SqlDatabase {
  readonly dialect = sqliteDialect;
  private readonly writer: Connection;
  private readonly reader: Connection;
  private readonly writeExec: SqliteExecutor;
  private readonly readExec: SqliteExecutor;
  private readonly lock = new AsyncMutex();
  /** Read connections of finished snapshots, kept for the next one. */
  private readonly idleSnapshotConns: Connection[] = [];
  private closed = false;

  constructor(readonly path: string) {
    this.writer = openSqliteConnection(path);
    this.reader = path === ':memory:' ? this.writer : openSqliteConnection(path);
    this.writeExec = new SqliteExecutor(this.writer, new StatementCache(this.writer));
    this.readExec = path === ':memory:' ? this.writeExec : new SqliteExecutor(this.reader, new StatementCache(this.reader));
  }

  all<T>(sql: string, params?: SqlParams): Promise<T[]> {
    return this.readExec.all<T>(sql, params);
  }

  get<T>(sql: string, params?: SqlParams): Promise<T | undefined> {
    return this.readExec.get<T>(sql, params);
  }

  run(sql: string, params?: SqlParams): Promise<number> {
    return this.lock.run(() => this.writeExec.run(sql, params));
  }

  exec(script: string): Promise<void> {
    return this.lock.run(() => this.writeExec.exec(script));
  }

  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.lock.run(async () => {
      this.writer.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn(this.writeExec);
        this.writer.exec('COMMIT');
        return result;
      } catch (err) {
        if (this.writer.inTransaction) this.writer.exec('ROLLBACK');
        throw err;
      }
    });
  }

  /** A read-only snapshot on a connection of its own (see `SqliteSnapshot`). */
  snapshot(): Promise<ReadSnapshot> {
    if (this.closed) return Promise.reject(new Error('the database is closed'));
    if (this.path === ':memory:') return Promise.resolve(new SqliteSnapshot(this.writer, true, () => undefined));
    const conn = this.idleSnapshotConns.pop() ?? openSqliteConnection(this.path, true);
    return Promise.resolve(
      new SqliteSnapshot(conn, false, (c) => {
        if (this.closed || this.idleSnapshotConns.length >= 2) c.close();
        else this.idleSnapshotConns.push(c);
      }),
    );
  }

  /** Runs a synchronous block on the writer connection under the lock (migrations, backup). */
  withWriter<T>(fn: (conn: Connection) => T): Promise<T> {
    return this.lock.run(() => fn(this.writer));
  }

  /** Proves the file is writable: commits a one-row write (a rolled-back one never reaches the disk, so misses a full one). */
  async ping(): Promise<void> {
    await this.lock.run(() => {
      this.writer.exec('BEGIN IMMEDIATE');
      try {
        this.writer.exec('CREATE TABLE IF NOT EXISTS _trailmark_ping (x INTEGER); DELETE FROM _trailmark_ping; INSERT INTO _trailmark_ping VALUES (1); COMMIT');
      } finally {
        if (this.writer.inTransaction) this.writer.exec('ROLLBACK');
      }
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const c of this.idleSnapshotConns.splice(0)) c.close();
    await this.lock.run(() => {
      if (this.reader !== this.writer) this.reader.close();
      this.writer.close();
    });
  }
}

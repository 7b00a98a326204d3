import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Database as Connection, Statement } from 'better-sqlite3';
import { AsyncMutex } from '../../lib/async-mutex.js';
import type { SqlDatabase, SqlExecutor, SqlParams } from '../sql-database.js';
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
    await this.lock.run(() => {
      if (this.reader !== this.writer) this.reader.close();
      this.writer.close();
    });
  }
}

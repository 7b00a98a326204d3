import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Database as Connection } from 'better-sqlite3';
import { AsyncMutex } from '../../lib/async-mutex.js';
import type { GuardedBatch, GuardedBatchResult, SqlDatabase, SqlExecutor, SqlParams } from '../sql-database.js';
import { sqliteDialect } from './sqlite-dialect.js';
import type { SqliteWriter } from './sqlite-writer.js';
import { ConnectionStatements, InlineWriter, WorkerWriter, WRITE_PRAGMAS } from './sqlite-writer.js';

/** Opens a connection on this thread with the pragmas every Trailmark connection needs. */
export function openSqliteConnection(path: string, readonly = false): Connection {
  if (path !== ':memory:' && !readonly) mkdirSync(dirname(path), { recursive: true });
  const conn = new Database(path, { readonly, fileMustExist: readonly });
  for (const pragma of readonly ? ['busy_timeout = 5000', 'foreign_keys = ON'] : WRITE_PRAGMAS) conn.pragma(pragma);
  return conn;
}

/** Reads on a connection of this thread. */
class ReadExecutor implements SqlExecutor {
  readonly dialect = sqliteDialect;
  constructor(private readonly statements: ConnectionStatements) {}

  exec(script: string): Promise<void> {
    this.statements.conn.exec(script);
    return Promise.resolve();
  }
  all<T>(sql: string, params: SqlParams = []): Promise<T[]> {
    return Promise.resolve(this.statements.all<T>(sql, params));
  }
  get<T>(sql: string, params: SqlParams = []): Promise<T | undefined> {
    return Promise.resolve(this.statements.get<T>(sql, params));
  }
  run(sql: string, params: SqlParams = []): Promise<number> {
    return Promise.resolve(this.statements.run(sql, params));
  }
}

/** Statements of the open write transaction, sent to the writer. */
class WriteExecutor implements SqlExecutor {
  readonly dialect = sqliteDialect;
  constructor(private readonly writer: SqliteWriter) {}

  exec(script: string): Promise<void> {
    return this.writer.exec(script);
  }
  all<T>(sql: string, params: SqlParams = []): Promise<T[]> {
    return this.writer.all<T>(sql, params);
  }
  get<T>(sql: string, params: SqlParams = []): Promise<T | undefined> {
    return this.writer.get<T>(sql, params);
  }
  run(sql: string, params: SqlParams = []): Promise<number> {
    return this.writer.run(sql, params);
  }
}

/**
 * SQLite behind the async `SqlDatabase` interface. One writer connection, on a thread of its
 * own for a database file (so inserts, index updates and each commit's fsync never stop
 * request handling), guarded by a FIFO lock so a transaction's statements never interleave
 * with another's; reads use a connection on the calling thread, which WAL lets run beside
 * the writer.
 */
export class SqliteDatabase implements SqlDatabase {
  readonly dialect = sqliteDialect;
  private readonly writer: SqliteWriter;
  private readonly reader: Connection;
  private readonly writeExec: WriteExecutor;
  private readonly readExec: ReadExecutor;
  private readonly lock = new AsyncMutex();

  constructor(readonly path: string) {
    if (path === ':memory:') {
      const statements = new ConnectionStatements(openSqliteConnection(path));
      this.reader = statements.conn;
      this.writer = new InlineWriter(statements);
      this.readExec = new ReadExecutor(statements);
    } else {
      // Opened here first so the file exists in WAL mode before the reader and writer share it.
      this.reader = openSqliteConnection(path);
      this.writer = new WorkerWriter(path);
      this.readExec = new ReadExecutor(new ConnectionStatements(this.reader));
    }
    this.writeExec = new WriteExecutor(this.writer);
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
      await this.writer.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn(this.writeExec);
        await this.writer.exec('COMMIT');
        return result;
      } catch (err) {
        await this.writer.rollbackIfOpen();
        throw err;
      }
    });
  }

  batch(batch: GuardedBatch): Promise<GuardedBatchResult> {
    return this.lock.run(() => this.writer.batch(batch));
  }

  /** Proves the file is writable: commits a one-row write (a rolled-back one never reaches the disk, so misses a full one). */
  async ping(): Promise<void> {
    await this.lock.run(async () => {
      try {
        await this.writer.exec('BEGIN IMMEDIATE; CREATE TABLE IF NOT EXISTS _trailmark_ping (x INTEGER); DELETE FROM _trailmark_ping; INSERT INTO _trailmark_ping VALUES (1); COMMIT');
      } catch (err) {
        await this.writer.rollbackIfOpen();
        throw err;
      }
    });
  }

  async close(): Promise<void> {
    await this.lock.run(async () => {
      if (this.path !== ':memory:') this.reader.close();
      await this.writer.close();
    });
  }
}

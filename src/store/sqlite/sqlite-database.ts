import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { Database as Connection } from 'better-sqlite3';
import { AsyncMutex } from '../../lib/async-mutex.js';
import type { GuardedBatchPlan, GuardedBatchWriter, ReadSnapshot, SqlDatabase, SqlExecutor, SqlParams } from '../sql-database.js';
import { PendingBatch } from '../sql-database.js';
import { sqliteDialect } from './sqlite-dialect.js';
import type { SqliteWriter } from './sqlite-writer.js';
import { ConnectionStatements, InlineWriter, WorkerWriter, WRITE_PRAGMAS } from './sqlite-writer.js';
import { WalCheckpointer } from './wal-checkpointer.js';

/**
 * Log pages after which a commit of the writer finishes the checkpoint itself (SQLite's
 * `wal_autocheckpoint`), so that the log can start over (see the constructor): 64 MB with
 * 4 KB pages.
 */
export const WAL_RESTART_PAGES = 16_000;

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
 * SQLite behind the async `SqlDatabase` interface. One writer connection, on a thread of its
 * own for a database file (so inserts, index updates and each commit's fsync never stop
 * request handling), guarded by a FIFO lock so a transaction's statements never interleave
 * with another's; reads use a connection on the calling thread, which WAL lets run beside
 * the writer.
 */
export class SqliteDatabase implements SqlDatabase {
  readonly batchesInFlight = 2;
  readonly dialect = sqliteDialect;
  private readonly writer: SqliteWriter;
  private readonly reader: Connection;
  private readonly writeExec: WriteExecutor;
  private readonly readExec: ReadExecutor;
  private readonly lock = new AsyncMutex();
  /** Read connections of finished snapshots, kept for the next one. */
  private readonly idleSnapshotConns: Connection[] = [];
  private closed = false;

  private readonly checkpointer: WalCheckpointer | undefined;
  /** Why the checkpoint thread stopped, if it did while the database was open (commits checkpoint again then). */
  checkpointFailure: string | null = null;

  /** The file, absolute (undefined in memory): verify's range workers open it read-only. */
  readonly file: string | undefined;

  /** `walRestartPages`: see WAL_RESTART_PAGES (smaller in tests). */
  constructor(
    readonly path: string,
    options: { readonly walRestartPages?: number } = {},
  ) {
    this.file = path === ':memory:' ? undefined : resolve(path);
    if (path === ':memory:') {
      const statements = new ConnectionStatements(openSqliteConnection(path));
      this.reader = statements.conn;
      this.writer = new InlineWriter(statements);
      this.readExec = new ReadExecutor(statements);
    } else {
      // Opened here first so the file exists in WAL mode before the reader and writer share it.
      this.reader = openSqliteConnection(path);
      // Checkpoints run on a thread of their own (see WalCheckpointer). That thread alone
      // never lets the log start over: the log restarts from its beginning only when a
      // transaction begins with all of it copied into the database, and with a commit every
      // few milliseconds a pass from another thread never ends on the newest frame. Left so,
      // the log grows for as long as appends keep coming (3.5 GB behind a 150 MB database after
      // 30 s of ingest), and every read and commit slows down with it. So the writer keeps
      // SQLite's automatic checkpoint, at a bound well above SQLite's 1,000 pages: the commit
      // that passes it copies only what the thread has not copied yet, the next transaction
      // starts the log over, and hot pages are copied less often than with small bounds.
      this.writer = new WorkerWriter(path, [`wal_autocheckpoint = ${options.walRestartPages ?? WAL_RESTART_PAGES}`]);
      this.checkpointer = new WalCheckpointer(path, (error) => {
        if (this.closed) return;
        // Without the thread the writer checkpoints in its commits again, as SQLite does by default.
        this.checkpointFailure = error ?? 'the checkpoint thread stopped';
        void this.lock.run(() => this.writer.exec('PRAGMA wal_autocheckpoint = 1000')).catch(() => undefined);
      });
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

  /**
   * The batch holds the writer's lock from the moment it begins until its commit or abort has
   * been handed to the writer, not until it has ended: the writer runs what it is handed in
   * order, one operation at a time, so whatever takes the lock next runs after that commit
   * (or rollback) on the writer. The next batch is then waiting on the writer when this one
   * commits, instead of being handed over only once the request thread has seen the commit.
   */
  openBatch(plan: GuardedBatchPlan): GuardedBatchWriter {
    const pending = new PendingBatch();
    pending.queued = this.lock.busy;
    void this.lock.run(async () => {
      const target = this.writer.beginBatch(plan);
      let handedOver!: () => void;
      const released = new Promise<void>((resolve) => (handedOver = resolve));
      const last = <T>(end: () => Promise<T>): Promise<T> => {
        try {
          return end();
        } finally {
          handedOver();
        }
      };
      pending.attach({
        write: (statements) => target.write(statements),
        commit: (statements, final) => last(() => target.commit(statements, final)),
        abort: () => last(() => target.abort()),
      });
      await released;
    });
    return pending;
  }

  /** A read-only snapshot on a connection of its own (see `SqliteSnapshot`). */
  snapshot(): Promise<ReadSnapshot> {
    if (this.closed) return Promise.reject(new Error('the database is closed'));
    if (this.path === ':memory:') return Promise.resolve(new SqliteSnapshot(this.reader, true, () => undefined));
    const conn = this.idleSnapshotConns.pop() ?? openSqliteConnection(this.path, true);
    return Promise.resolve(
      new SqliteSnapshot(conn, false, (c) => {
        if (this.closed || this.idleSnapshotConns.length >= 2) c.close();
        else this.idleSnapshotConns.push(c);
      }),
    );
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
    this.closed = true;
    for (const c of this.idleSnapshotConns.splice(0)) c.close();
    await this.checkpointer?.close();
    await this.lock.run(async () => {
      if (this.path !== ':memory:') this.reader.close();
      await this.writer.close();
    });
  }
}

import type { PartitionManager } from './partitions.js';

export type SqlValue = string | number | bigint | null;
/** Bound parameters; an array binds as a PostgreSQL array (used by `insertRows` there only). */
export type SqlParams = ReadonlyArray<SqlValue | readonly SqlValue[]>;
export type ColumnType = 'bigint' | 'text' | 'tsvector';

/**
 * What differs between the backends, as capabilities rather than `if (postgres)` checks in
 * business code (the kysely way).
 */
export interface Dialect {
  readonly name: 'sqlite' | 'postgres';
  /** Appended to the chain-head read in the append transaction (row lock on PostgreSQL). */
  readonly lockForUpdate: string;
  /**
   * Run by a transaction that appends under the head lock, before it locks the head: the
   * append gate (no batch open), then the audit table, then the head row — the order in which
   * batches (which insert before they lock the head) and partition drops take them too. Null
   * where the database has one writer.
   */
  readonly appendLock: string | null;
  /** Appended to a claim query so concurrent workers take different rows (PostgreSQL). */
  readonly skipLocked: string;
  /** A predicate matching entries whose search text holds every token (as prefixes). */
  searchPredicate(tokens: readonly string[]): { sql: string; params: SqlValue[] };
  /**
   * The value of the `search` column an entry is inserted with, from its index terms
   * (PostgreSQL: a tsvector); null where the database indexes the text itself (SQLite: FTS5
   * triggers), and then no such column is written.
   */
  searchVector: ((terms: readonly string[]) => string) | null;
  /** Largest number of bound parameters one statement may carry. */
  readonly maxParams: number;
  /**
   * The INSERT statements for many rows, as few as the backend allows: multi-row VALUES
   * within the parameter limit (SQLite), or one `unnest` over an array per column
   * (PostgreSQL: 21 parameters instead of 21 per row, far less to encode and parse).
   */
  insertRows(table: string, columns: ReadonlyArray<readonly [name: string, type: ColumnType]>, rows: ReadonlyArray<readonly SqlValue[]>): Array<[string, SqlParams]>;
  /** A statement that serialises migrations across processes, inside their transaction. */
  readonly migrationLock: string | null;
  /**
   * Whether an error means another writer got there first or a lock wait was cut (a unique
   * violation, a detected deadlock, a lock timeout): the transaction changed nothing and may
   * simply be tried again.
   */
  isConflict(err: unknown): boolean;
}

/**
 * One connection's worth of statements. Placeholders are `?` in every dialect; the
 * PostgreSQL driver numbers them. Values come back as plain JS numbers and strings
 * (64-bit integers are parsed to numbers; every stored integer is below 2^53).
 */
export interface SqlExecutor {
  readonly dialect: Dialect;
  all<T>(sql: string, params?: SqlParams): Promise<T[]>;
  get<T>(sql: string, params?: SqlParams): Promise<T | undefined>;
  /** Runs a statement; resolves with the number of rows it changed. */
  run(sql: string, params?: SqlParams): Promise<number>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(script: string): Promise<void>;
}

/** One statement and its bound parameters. */
export type SqlStatement = readonly [sql: string, params: SqlParams];

/**
 * Writes that commit together only if a guard row still holds the expected values (an
 * optimistic compare-and-set): the writer prepares everything outside any lock, so the
 * database does the whole transaction without waiting on the caller.
 */
export interface GuardedBatchPlan {
  readonly guard: { readonly sql: string; readonly params: SqlParams; readonly expect: Readonly<Record<string, SqlValue>> };
  /**
   * Where this batch sits among the batches of its writer that are in flight together: it
   * continues the one that claimed `after` and claims `claim` (the chain writer passes seq
   * numbers). A backend that writes batches side by side (PostgreSQL, one connection each)
   * checks the guard only once the batch claiming `after` has ended, waiting inside the
   * database so that every wait between writers is one its deadlock detection can see.
   */
  readonly order?: { readonly after: number; readonly claim: number };
}

/**
 * A guarded batch being written. Statements are sent to the database as they are written (or,
 * until the backend has begun the batch, as soon as it has), so preparing the next part
 * overlaps the database writing this one. A failed write surfaces in `commit`.
 */
export interface GuardedBatchWriter {
  /** Resolves once the backend has begun the batch (has its connection or lock) or failed to; never rejects. */
  readonly begun: Promise<void>;
  /**
   * True when the batch waits behind another of the same database (SQLite's single writer):
   * `begun` then comes only when that one ends, so a caller should go on preparing.
   */
  readonly queued: boolean;
  write(statements: readonly SqlStatement[]): void;
  /**
   * Writes the last `statements`, checks the guard and, if it holds, writes `final` (the chain
   * writer moves the head with it) and commits; otherwise rolls back. A conflict with another
   * writer (a row of theirs where one of these was to go) is reported as a guard that did not
   * hold. A batch written in one part passes it all here: one request to the database.
   */
  commit(statements: readonly SqlStatement[], final: SqlStatement): Promise<GuardedBatchResult>;
  /** Rolls back what was written: the caller could not finish preparing the batch. */
  abort(): Promise<void>;
}

/** `applied`, or the guard row found instead (undefined when there is none); nothing was written then. */
export type GuardedBatchResult = { readonly applied: true } | { readonly applied: false; readonly found: Record<string, SqlValue> | undefined };

/** What a backend gives `PendingBatch` once it has begun a batch. */
export interface BatchTarget {
  write(statements: readonly SqlStatement[]): void;
  commit(statements: readonly SqlStatement[], final: SqlStatement): Promise<GuardedBatchResult>;
  abort(): Promise<void>;
}

/**
 * The writer handed out by `openBatch` while the backend is still getting ready (waiting for
 * its lock or a connection): statements written meanwhile wait here and go out the moment
 * the backend attaches; after that every write goes straight through.
 */
export class PendingBatch implements GuardedBatchWriter {
  readonly begun: Promise<void>;
  /** See GuardedBatchWriter.queued; the backend says so when it opens the batch. */
  queued = false;
  private markBegun!: () => void;
  private target: BatchTarget | null = null;
  private failure: { readonly error: unknown } | null = null;
  private buffered: Array<readonly SqlStatement[]> = [];

  constructor() {
    this.begun = new Promise((resolve) => (this.markBegun = resolve));
  }

  /** The backend has begun the batch. */
  attach(target: BatchTarget): void {
    this.target = target;
    for (const statements of this.buffered) target.write(statements);
    this.buffered = [];
    this.markBegun();
  }

  /** The backend could not begin the batch: nothing was written; `commit` rejects with this. */
  fail(error: unknown): void {
    this.failure = { error };
    this.buffered = [];
    this.markBegun();
  }

  write(statements: readonly SqlStatement[]): void {
    if (this.target) this.target.write(statements);
    else if (!this.failure) this.buffered.push(statements);
  }

  async commit(statements: readonly SqlStatement[], final: SqlStatement): Promise<GuardedBatchResult> {
    await this.begun;
    if (!this.target) throw this.failure!.error;
    return this.target.commit(statements, final);
  }

  async abort(): Promise<void> {
    await this.begun;
    await this.target?.abort();
  }
}

export interface SqlDatabase extends SqlExecutor {
  /** Time partitions of the audit table, on backends that have them. */
  readonly partitions?: PartitionManager;
  /**
   * The database file, where there is one another thread may open read-only beside this
   * object's connections (SQLite file databases; not `:memory:`, not PostgreSQL).
   */
  readonly file?: string;
  /**
   * Runs `fn` in one transaction that holds the database's write lock (SQLite:
   * BEGIN IMMEDIATE on the single writer connection; PostgreSQL: a pooled client).
   * Commits when `fn` resolves and only then resolves; rolls back when it throws.
   */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /**
   * Begins a guarded batch: one write transaction whose statements are sent while the caller
   * is still preparing the rest, committed only if the guard holds. Absent on backends
   * without it: callers use `transaction`.
   */
  openBatch?(plan: GuardedBatchPlan): GuardedBatchWriter;
  /**
   * How many batches one writer keeps in flight: while one is written the next is prepared
   * (SQLite, one writer: 2); where each has a connection of its own and they insert side by
   * side (PostgreSQL), more keep the database busy while the request thread is.
   */
  readonly batchesInFlight: number;
  /**
   * Opens a read-only view of the database as of one moment, on a connection of its own
   * (SQLite: a reader in a deferred transaction, which WAL lets run beside the writer;
   * PostgreSQL: a pooled client in a REPEATABLE READ READ ONLY transaction). Never takes the
   * write lock. The caller must `close()` it.
   */
  snapshot(): Promise<ReadSnapshot>;
  /** Throws when the database cannot be reached or written. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Statements that all see the same committed state. Run `all` before `stream`: while a stream
 * is open it owns the connection (one stream at a time).
 */
export interface ReadSnapshot {
  all<T>(sql: string, params?: SqlParams): Promise<T[]>;
  /**
   * The rows of one query as arrays in select-list order, in batches of up to `batchSize`.
   * Where the driver is asynchronous (PostgreSQL) the next batch is already being read while
   * the caller works on the current one. Stopping early (`break`) releases the statement.
   */
  stream(sql: string, params: SqlParams, batchSize: number): AsyncIterable<unknown[][]>;
  /**
   * Lets other connections read this same snapshot (PostgreSQL: `pg_export_snapshot()`): what
   * they need to connect and import it. Valid while this snapshot stays open. Absent where
   * the backend cannot share one (SQLite).
   */
  share?(): Promise<SharedSnapshot>;
  /** Ends the snapshot and gives its connection back; safe to call more than once. */
  close(): Promise<void>;
}

/** A PostgreSQL snapshot other connections can import (see `ReadSnapshot.share`). */
export interface SharedSnapshot {
  readonly kind: 'postgres';
  /** As the pool connects (may hold a password: never put it in an error or a log line). */
  readonly connectionString: string;
  /** The schema set as `search_path`; null for the server's default. */
  readonly schema: string | null;
  /** The id `SET TRANSACTION SNAPSHOT` takes. */
  readonly snapshot: string;
}

let savepointCounter = 0;

/** Runs `fn` inside a savepoint of an open transaction: its changes go or stay together. */
export async function withSavepoint<T>(tx: SqlExecutor, fn: () => Promise<T>): Promise<T> {
  const name = `sp_${(savepointCounter = (savepointCounter + 1) % 1_000_000)}`;
  await tx.run(`SAVEPOINT ${name}`);
  try {
    const result = await fn();
    await tx.run(`RELEASE SAVEPOINT ${name}`);
    return result;
  } catch (err) {
    await tx.run(`ROLLBACK TO SAVEPOINT ${name}`);
    await tx.run(`RELEASE SAVEPOINT ${name}`);
    throw err;
  }
}

import type { PartitionManager } from './partitions.js';

export type SqlValue = string | number | bigint | null;
/** Bound parameters; an array binds as a PostgreSQL array (used by `insertRows` there only). */
export type SqlParams = ReadonlyArray<SqlValue | readonly SqlValue[]>;
export type ColumnType = 'bigint' | 'text';

/**
 * What differs between the backends, as capabilities rather than `if (postgres)` checks in
 * business code (the kysely way).
 */
export interface Dialect {
  readonly name: 'sqlite' | 'postgres';
  /** Appended to the chain-head read in the append transaction (row lock on PostgreSQL). */
  readonly lockForUpdate: string;
  /** Appended to a claim query so concurrent workers take different rows (PostgreSQL). */
  readonly skipLocked: string;
  /** A predicate matching entries whose search text holds every token (as prefixes). */
  searchPredicate(tokens: readonly string[]): { sql: string; params: SqlValue[] };
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

/**
 * Writes that commit together only if a guard row still holds the expected values (an
 * optimistic compare-and-set): the writer prepares everything beforehand, so the database
 * does the whole transaction without waiting on the caller. `final` is written last, once
 * the guard holds (the chain writer moves the head with it).
 */
export interface GuardedBatch {
  readonly guard: { readonly sql: string; readonly params: SqlParams; readonly expect: Readonly<Record<string, SqlValue>> };
  readonly statements: ReadonlyArray<readonly [sql: string, params: SqlParams]>;
  readonly final: readonly [sql: string, params: SqlParams];
}

/** `applied`, or the guard row found instead (undefined when there is none); nothing was written then. */
export type GuardedBatchResult = { readonly applied: true } | { readonly applied: false; readonly found: Record<string, SqlValue> | undefined };

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
   * Runs a guarded batch in one write transaction, on backends where that saves round trips
   * (SQLite's writer thread). Absent elsewhere: callers use `transaction`.
   */
  batch?(batch: GuardedBatch): Promise<GuardedBatchResult>;
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
  /** Ends the snapshot and gives its connection back; safe to call more than once. */
  close(): Promise<void>;
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

/** Whether a guard row holds every expected value. */
export function guardHolds(row: Record<string, SqlValue> | undefined, expect: Readonly<Record<string, SqlValue>>): boolean {
  return row !== undefined && Object.entries(expect).every(([k, v]) => row[k] === v);
}

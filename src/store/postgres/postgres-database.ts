import pg from 'pg';
import type { PoolClient, QueryResultRow } from 'pg';
import Cursor from 'pg-cursor';
import type { GuardedBatch, GuardedBatchResult, ReadSnapshot, SqlDatabase, SqlExecutor, SqlParams, SqlValue } from '../sql-database.js';
import { guardHolds } from '../sql-database.js';
import { postgresDialect } from './postgres-dialect.js';
import { PostgresPartitions } from './postgres-partitions.js';

const INT8_OID = 20;
const NUMERIC_OID = 1700;

/** int8 and numeric as JS numbers: every integer Trailmark stores is below 2^53. */
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID || oid === NUMERIC_OID) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format);
  },
};

const numbered = new Map<string, string>();
/** `?` placeholders → `$1, $2…` (portable SQL never holds `?` inside a literal). */
function toPg(sql: string): string {
  let out = numbered.get(sql);
  if (out === undefined) {
    let n = 0;
    out = sql.replace(/\?/g, () => `$${++n}`);
    if (numbered.size > 2000) numbered.clear();
    numbered.set(sql, out);
  }
  return out;
}

type Queryable = Pick<pg.Pool, 'query'> | PoolClient;

class PostgresExecutor implements SqlExecutor {
  readonly dialect = postgresDialect;
  constructor(private readonly conn: Queryable) {}

  async all<T>(sql: string, params: SqlParams = []): Promise<T[]> {
    const res = await this.conn.query<QueryResultRow>(toPg(sql), params as unknown[]);
    return res.rows as T[];
  }

  async get<T>(sql: string, params: SqlParams = []): Promise<T | undefined> {
    return (await this.all<T>(sql, params))[0];
  }

  async run(sql: string, params: SqlParams = []): Promise<number> {
    const res = await this.conn.query(toPg(sql), params as unknown[]);
    return res.rowCount ?? 0;
  }

  async exec(script: string): Promise<void> {
    await this.conn.query(script);
  }
}

/**
 * A pooled client in a REPEATABLE READ READ ONLY transaction: every statement sees the
 * snapshot its first one took. `stream` reads through a cursor (`pg-cursor`, array rows)
 * and asks for batch k+1 before handing out batch k.
 */
class PostgresSnapshot implements ReadSnapshot {
  private streaming = false;
  private closed = false;
  private broken = false;
  private readonly lost = (): void => void (this.broken = true);

  constructor(private readonly client: PoolClient) {
    client.on('error', this.lost);
  }

  async all<T>(sql: string, params: SqlParams = []): Promise<T[]> {
    const res = await this.client.query<QueryResultRow>(toPg(sql), params as unknown[]);
    return res.rows as T[];
  }

  async *stream(sql: string, params: SqlParams, batchSize: number): AsyncGenerator<unknown[][]> {
    if (this.streaming) throw new Error('a snapshot streams one statement at a time');
    this.streaming = true;
    const cursor = this.client.query(new Cursor<unknown[]>(toPg(sql), params as unknown[], { rowMode: 'array', types }));
    const read = (): Promise<unknown[][]> => {
      const p = cursor.read(batchSize);
      // Read ahead: a failure is reported when the batch is taken, not as an unhandled rejection.
      p.catch(() => undefined);
      return p;
    };
    let next: Promise<unknown[][]> | null = read();
    try {
      while (next) {
        const rows: unknown[][] = await next;
        next = rows.length === batchSize ? read() : null;
        if (rows.length > 0) yield rows;
      }
    } finally {
      if (next) await next.catch(() => undefined);
      await cursor.close().catch(() => void (this.broken = true));
      this.streaming = false;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.client.query('COMMIT');
    } catch {
      this.broken = true;
    } finally {
      this.client.off('error', this.lost);
      this.client.release(this.broken);
    }
  }
}

export interface PostgresOptions {
  /** Schema to work in (created when missing); lets tests and tenants share one database. */
  readonly schema?: string;
  readonly poolSize?: number;
}

/** Splits Trailmark's own `schema` parameter off a `postgres://` URL. */
export function parsePostgresUrl(url: string): { connectionString: string; schema?: string } {
  const u = new URL(url);
  const schema = u.searchParams.get('schema') ?? undefined;
  u.searchParams.delete('schema');
  if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new Error(`DATABASE_URL schema '${schema}' must be a lowercase SQL identifier`);
  }
  return { connectionString: u.toString(), schema };
}

/** PostgreSQL behind `SqlDatabase`: a pool; each transaction takes one client. */
export class PostgresDatabase implements SqlDatabase {
  readonly dialect = postgresDialect;
  private readonly pool: pg.Pool;
  private readonly executor: PostgresExecutor;

  readonly partitions: PostgresPartitions;

  private constructor(pool: pg.Pool, readonly schema: string | undefined) {
    this.pool = pool;
    this.partitions = new PostgresPartitions(this);
    this.executor = new PostgresExecutor(pool);
  }

  static async open(url: string, options: PostgresOptions = {}): Promise<PostgresDatabase> {
    const parsed = parsePostgresUrl(url);
    const schema = options.schema ?? parsed.schema;
    if (schema) {
      const admin = new pg.Client({ connectionString: parsed.connectionString });
      await admin.connect();
      try {
        await admin.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
      } finally {
        await admin.end();
      }
    }
    const pool = new pg.Pool({
      connectionString: parsed.connectionString,
      max: options.poolSize ?? 10,
      types,
      options: schema ? `-c search_path=${schema}` : undefined,
      connectionTimeoutMillis: 10_000,
    });
    // An idle client that loses its server must not crash the process; the next query reports it.
    pool.on('error', () => undefined);
    const db = new PostgresDatabase(pool, schema);
    await db.ping();
    return db;
  }

  all<T>(sql: string, params?: SqlParams): Promise<T[]> {
    return this.executor.all<T>(sql, params);
  }

  get<T>(sql: string, params?: SqlParams): Promise<T | undefined> {
    return this.executor.get<T>(sql, params);
  }

  run(sql: string, params?: SqlParams): Promise<number> {
    return this.executor.run(sql, params);
  }

  exec(script: string): Promise<void> {
    return this.pool.query(script).then(() => undefined);
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken = false;
    // A connection lost while checked out emits 'error' on the client: unheard, it ends the process.
    const lost = (): void => void (broken = true);
    client.on('error', lost);
    try {
      await client.query('BEGIN');
      const result = await fn(new PostgresExecutor(client));
      await client.query('COMMIT');
      return result;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch {
        broken = true;
      }
      throw err;
    } finally {
      client.off('error', lost);
      client.release(broken);
    }
  }

  /**
   * The guard row is read `FOR UPDATE` first, so writers take turns in the order every other
   * chain-head transaction locks in (retention and partition drops lock the head before the
   * partitions: the reverse order deadlocks with them). Everything written was prepared before
   * the transaction, so the lock is held only for the writes themselves.
   */
  batch(b: GuardedBatch): Promise<GuardedBatchResult> {
    return this.transaction(async (tx) => {
      const found = await tx.get<Record<string, SqlValue>>(`${b.guard.sql} FOR UPDATE`, b.guard.params);
      if (!guardHolds(found, b.guard.expect)) return { applied: false, found };
      for (const [sql, params] of b.statements) await tx.run(sql, params);
      await tx.run(...b.final);
      return { applied: true } as const;
    });
  }

  /** A read-only snapshot on a pooled client of its own (see `PostgresSnapshot`). */
  async snapshot(): Promise<ReadSnapshot> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY');
    } catch (err) {
      client.release(true);
      throw err;
    }
    return new PostgresSnapshot(client);
  }

  /** Proves the server answers and accepts writes (not a read-only standby). */
  async ping(): Promise<void> {
    const res = await this.pool.query<{ recovering: boolean }>('SELECT pg_is_in_recovery() AS recovering');
    if (res.rows[0]?.recovering) throw new Error('PostgreSQL is a read-only standby');
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

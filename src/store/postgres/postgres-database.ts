import pg from 'pg';
import type { PoolClient, QueryResultRow } from 'pg';
import Cursor from 'pg-cursor';
import type { BatchTarget, GuardedBatchPlan, GuardedBatchResult, GuardedBatchWriter, ReadSnapshot, SharedSnapshot, SqlDatabase, SqlExecutor, SqlParams, SqlStatement, SqlValue } from '../sql-database.js';
import { PendingBatch } from '../sql-database.js';
import { APPEND_GATE_SHARED, postgresDialect } from './postgres-dialect.js';
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
 * and asks for batch k+1 before handing out batch k. `share` exports the snapshot for other
 * clients (verify's range workers), valid until `close`.
 */
class PostgresSnapshot implements ReadSnapshot {
  private streaming = false;
  private closed = false;
  private broken = false;
  private readonly lost = (): void => void (this.broken = true);

  constructor(
    private readonly client: PoolClient,
    private readonly connection: { readonly connectionString: string; readonly schema: string | null },
  ) {
    client.on('error', this.lost);
  }

  async share(): Promise<SharedSnapshot> {
    if (this.streaming) throw new Error('a snapshot is shared before it streams');
    const res = await this.client.query<{ id: string }>('SELECT pg_export_snapshot() AS id');
    return { kind: 'postgres', ...this.connection, snapshot: res.rows[0]!.id };
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

/**
 * `sql` with each `?` replaced by its value written as a literal (numbers as digits, text
 * quoted by the driver's own escapeLiteral, null as NULL), for a simple-protocol text that
 * carries several statements in one message. Only for the chain writer's few scalar values.
 */
export function inlineParams(sql: string, params: SqlParams): string {
  let i = 0;
  const text = sql.replace(/\?/g, () => {
    const v = params[i++];
    if (v === null) return 'NULL';
    if (typeof v === 'number' && Number.isFinite(v)) return String(v);
    if (typeof v === 'bigint') return String(v);
    if (typeof v === 'string') return pg.escapeLiteral(v);
    throw new Error('inlineParams: only numbers, text and null are written as literals');
  });
  if (i !== params.length) throw new Error(`inlineParams: ${params.length} values for ${i} placeholders`);
  return text;
}

/** Advisory-lock class of the batches' order claims (the key is the claimed seq's low 32 bits). */
const BATCH_ORDER_LOCK = 7240310;
/** Longest any lock wait of a batch lasts before the batch gives up and its writer retries. */
const BATCH_LOCK_TIMEOUT = '5s';
/** The SQLSTATE a batch's commit raises when its guard row is not as expected (class TM: Trailmark's own). */
const GUARD_MISSED = 'TMG01';

/**
 * A statement that locks the guard row (FOR UPDATE) and raises GUARD_MISSED unless it holds
 * the expected values, so that the rest of the text it is sent with (the final statement
 * and COMMIT) runs only when the guard holds, with no round trip in between.
 */
export function guardCheckSql(guard: GuardedBatchPlan['guard']): string {
  const conditions = Object.entries(guard.expect).map(([column, value]) => `g.${pg.escapeIdentifier(column)} = ${inlineParams('?', [value])}`);
  const body = `PERFORM 1 FROM (${inlineParams(guard.sql, guard.params)} FOR UPDATE) g WHERE ${conditions.join(' AND ') || 'true'}; IF NOT FOUND THEN RAISE EXCEPTION 'the guard row is not as expected' USING ERRCODE = '${GUARD_MISSED}'; END IF;`;
  if (body.includes('$guard$')) throw new Error('guardCheckSql: the guard text may not contain $guard$');
  return `DO $guard$ BEGIN ${body} END $guard$`;
}

/**
 * One guarded batch in a transaction of its own: its statements are sent as they are written
 * (the client queues them), and only at commit does it wait for the batch it follows (the
 * order claim, an advisory lock held until that transaction ends) and lock the guard row.
 * Inserting before taking the guard lock lets batches insert side by side; every wait is on
 * a database lock, so PostgreSQL's deadlock detection sees any cycle with other writers, and
 * `lock_timeout` bounds the rest. Tables are therefore locked before the guard row by every
 * chain-head transaction (see `Dialect.appendLock`).
 */
class PostgresBatch implements BatchTarget {
  /** The statements sent so far, one after another (the client runs one query at a time). */
  private queue: Promise<void> = Promise.resolve();
  private failure: unknown = null;
  private ended = false;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly client: PoolClient,
    private readonly plan: GuardedBatchPlan,
  ) {
    client.on('error', this.lost);
  }

  private readonly lost = (err: Error): void => {
    this.failure ??= err;
  };

  static async begin(pool: pg.Pool, plan: GuardedBatchPlan): Promise<PostgresBatch> {
    const client = await pool.connect();
    // Heard from the moment it is checked out: a connection lost while the BEGIN is under way
    // emits 'error' on the client, and unheard that ends the process.
    const batch = new PostgresBatch(pool, client, plan);
    const claim = plan.order ? `; SELECT pg_advisory_xact_lock(${BATCH_ORDER_LOCK}, ${plan.order.claim | 0})` : '';
    try {
      // Through the append gate first (shared: batches pass together; a locked append waits
      // for them and holds them back while it runs), then the order claim.
      await client.query(`BEGIN; SET LOCAL lock_timeout = '${BATCH_LOCK_TIMEOUT}'; ${APPEND_GATE_SHARED}${claim}`);
    } catch (err) {
      await batch.rollback().catch(() => undefined);
      throw err;
    }
    return batch;
  }

  /** Runs after every statement sent before it; resolves once it has run or a statement has failed (see `failure`). */
  private send(sql: string, params: readonly unknown[] = []): Promise<void> {
    const next = this.queue.then(() => (this.failure ? undefined : this.client.query(sql, params as unknown[])));
    this.queue = next.then(
      () => undefined,
      (err: unknown) => void (this.failure ??= err),
    );
    return this.queue;
  }

  write(statements: readonly SqlStatement[]): void {
    if (this.ended) return;
    for (const [sql, params] of statements) void this.send(toPg(sql), params);
  }

  /**
   * One round trip: the turn (waiting for the batch this one follows), the guard row locked
   * and checked (`guardCheckSql`), the final statement and COMMIT, in one simple-protocol
   * text with its few values written in as literals (`inlineParams`). A failing statement
   * stops the rest of the text, and the batch rolls back. The chain head is therefore locked
   * only while PostgreSQL runs that text: with a round trip in between, each commit held it
   * (and every batch queued behind) until the busy request thread read the guard row.
   */
  async commit(statements: readonly SqlStatement[], final: SqlStatement): Promise<GuardedBatchResult> {
    this.write(statements);
    const { guard, order } = this.plan;
    try {
      const turn = order ? `SELECT pg_advisory_xact_lock_shared(${BATCH_ORDER_LOCK}, ${order.after | 0}); ` : '';
      await this.send(`${turn}${guardCheckSql(guard)}; ${inlineParams(final[0], final[1])}; COMMIT`);
      if (this.failure) throw this.failure;
      this.release(false);
      return { applied: true };
    } catch (err) {
      await this.rollback().catch(() => undefined);
      if ((err as { code?: unknown }).code !== GUARD_MISSED && !postgresDialect.isConflict(err)) throw err;
      // The guard row was not as expected, another writer's rows sit where these were to go,
      // or a lock wait was cut: report the guard row as it is now, and the writer relinks
      // after it.
      const found = (await this.pool.query<Record<string, SqlValue>>(toPg(guard.sql), guard.params as unknown[])).rows[0];
      return { applied: false, found };
    }
  }

  async abort(): Promise<void> {
    await this.queue;
    await this.rollback();
  }

  /** Rolls the transaction back and gives the client back. */
  private async rollback(): Promise<void> {
    if (this.ended) return;
    let broken = false;
    try {
      await this.client.query('ROLLBACK');
    } catch (err) {
      broken = true;
      throw err;
    } finally {
      this.release(broken);
    }
  }

  /** Gives the client back to the pool (closing it when `broken`); the batch has ended. */
  private release(broken: boolean): void {
    if (this.ended) return;
    this.ended = true;
    this.client.off('error', this.lost);
    this.client.release(broken);
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
  readonly batchesInFlight = 4;
  readonly dialect = postgresDialect;
  private readonly pool: pg.Pool;
  private readonly executor: PostgresExecutor;

  readonly partitions: PostgresPartitions;

  private constructor(
    pool: pg.Pool,
    readonly schema: string | undefined,
    private readonly connectionString: string,
  ) {
    this.pool = pool;
    this.partitions = new PostgresPartitions(this);
    this.executor = new PostgresExecutor(pool);
  }

  static async open(url: string, options: PostgresOptions = {}): Promise<PostgresDatabase> {
    const parsed = parsePostgresUrl(url);
    const schema = options.schema ?? parsed.schema;
    if (schema) {
      const admin = new pg.Client({ connectionString: parsed.connectionString });
      // A lost connection rejects the query below; unheard, its 'error' event would end the process.
      admin.on('error', () => undefined);
      await admin.connect();
      try {
        await admin.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
      } catch (err) {
        // Nodes starting together: IF NOT EXISTS still races in the catalog (unique_violation);
        // the schema exists either way.
        if ((err as { code?: unknown }).code !== '23505') throw err;
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
    const db = new PostgresDatabase(pool, schema, parsed.connectionString);
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
   * A guarded batch on a pooled client of its own, so the batches of one writer (and of every
   * node) insert side by side and take turns only for the guard row (see `PostgresBatch`).
   */
  openBatch(plan: GuardedBatchPlan): GuardedBatchWriter {
    const pending = new PendingBatch();
    void PostgresBatch.begin(this.pool, plan).then(
      (batch) => pending.attach(batch),
      (err: unknown) => pending.fail(err),
    );
    return pending;
  }

  /** A read-only snapshot on a pooled client of its own (see `PostgresSnapshot`). */
  async snapshot(): Promise<ReadSnapshot> {
    const client = await this.pool.connect();
    // Heard while the BEGIN is under way (the snapshot listens from then on): an unheard
    // 'error' on a checked-out client ends the process.
    const lost = (): void => undefined;
    client.on('error', lost);
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY');
    } catch (err) {
      client.release(true);
      throw err;
    } finally {
      client.off('error', lost);
    }
    return new PostgresSnapshot(client, { connectionString: this.connectionString, schema: this.schema ?? null });
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

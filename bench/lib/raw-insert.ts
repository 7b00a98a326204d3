import type { Database as SqliteConnection } from 'better-sqlite3';
import type pg from 'pg';
import type { SqlValue } from '../../src/store/sql-database.js';
import { ENTRY_COLUMNS } from '../../src/audit/entry-row.js';
import { postgresDialect } from '../../src/store/postgres/postgres-dialect.js';
import type { BackendName } from './backend.js';
import { EventGenerator } from './events.js';
import { migrateRawPg, migrateRawSqlite, openRawPg, openRawPgClient, openRawSqlite, toPgSql } from './raw-db.js';
import { RowFactory, insertSql, prepareEntries } from './rows.js';
import { nowMs } from './stats.js';

type Head = { seq: number; hash: string; ts: number };
const HEAD_SQL = 'SELECT seq, hash, ts FROM audit_chain_head WHERE id = 1';

/** Most PostgreSQL connections the bare baseline opens (one per client up to this). */
export const PG_BASELINE_MAX_CONNECTIONS = 16;

/**
 * The bare ingest baseline: the driver inserting ready-made rows (same columns, sizes and
 * real chain hashes as the writer's) in fixed-size durable transactions. On a scratch
 * database (`migrate`), or continuing the chain of a live one (`continueChain`, which then
 * moves the chain head so the database stays valid).
 */
export class RawInserter {
  private constructor(
    private readonly rows: RowFactory,
    private readonly sqlite: SqliteConnection | null,
    private readonly pool: pg.Pool | null,
    /** The chain head when opened (continueChain), whose `ts` new rows must not go below. */
    readonly startHead: { seq: number; hash: string; ts: number } | undefined,
  ) {}

  static async open(backend: BackendName, location: string, mode: 'migrate' | 'continueChain'): Promise<RawInserter> {
    const gen = new EventGenerator(11);
    const templates = prepareEntries(Array.from({ length: 2_000 }, () => gen.next(Date.now(), false)));
    if (backend === 'sqlite') {
      const conn = openRawSqlite(location);
      if (mode === 'migrate') migrateRawSqlite(conn);
      const head = mode === 'continueChain' ? (conn.prepare(HEAD_SQL).get() as Head) : undefined;
      return new RawInserter(new RowFactory(templates, head?.seq, head?.hash), conn, null, head);
    }
    if (mode === 'migrate') await migrateRawPg(location);
    let head: Head | undefined;
    if (mode === 'continueChain') {
      const c = await openRawPgClient(location);
      head = (await c.query<Head>(HEAD_SQL)).rows[0];
      await c.end();
    }
    // PostgreSQL rows carry the search vector as the server writes it.
    return new RawInserter(new RowFactory(templates, head?.seq, head?.hash, postgresDialect.searchVector), null, openRawPg(location, PG_BASELINE_MAX_CONNECTIONS), head);
  }

  /**
   * Inserts rows `perTx` to a transaction for up to `durationMs` (rows are made before the
   * clock starts). SQLite: one connection (one writer). PostgreSQL: one connection per
   * client, up to PG_BASELINE_MAX_CONNECTIONS.
   */
  async measure(perTx: number, clients: number, durationMs: number, ts = Date.now()): Promise<{ rate: number; rows: number; description: string }> {
    const sql = insertSql(perTx, !this.sqlite);
    if (this.sqlite) {
      // One writer, so the clock runs only inside each transaction; rows are made between them.
      const conn = this.sqlite;
      const stmt = conn.prepare(sql);
      let busy = 0;
      let rows = 0;
      while (busy < durationMs) {
        const params = this.rows.take(perTx, ts).flat();
        const t = nowMs();
        conn.exec('BEGIN IMMEDIATE');
        stmt.run(...params);
        conn.exec('COMMIT');
        busy += nowMs() - t;
        rows += perTx;
      }
      return { rate: rows / (busy / 1000), rows, description: `bare better-sqlite3, 1 connection (SQLite has one writer), BEGIN IMMEDIATE + INSERT of ${perTx} row(s) + COMMIT, WAL, synchronous=FULL` };
    }
    // Rows for the whole run are made before the clock starts (a generous estimate of what fits).
    const budget = Math.ceil((durationMs / 1000) * (perTx === 1 ? 8_000 : 50_000));
    const txs: SqlValue[][] = [];
    for (let i = 0; i < budget; i += perTx) txs.push(this.rows.take(perTx, ts).flat());
    const pool = this.pool!;
    const connections = Math.min(clients, PG_BASELINE_MAX_CONNECTIONS);
    const pgSql = toPgSql(sql);
    // Connect before the clock starts: the baseline measures inserts, not connection set-up.
    const conns = await Promise.all(Array.from({ length: connections }, () => pool.connect()));
    let next = 0;
    let done = 0;
    const t0 = nowMs();
    const worker = async (c: pg.PoolClient): Promise<void> => {
      while (next < txs.length && nowMs() - t0 < durationMs) {
        const params = txs[next++]!;
        await c.query('BEGIN');
        await c.query(pgSql, params);
        await c.query('COMMIT');
        done += 1;
      }
    };
    try {
      await Promise.all(conns.map(worker));
    } finally {
      conns.forEach((c) => c.release());
    }
    const seconds = (nowMs() - t0) / 1000;
    // Rows made but not inserted are dropped: the chain continues from the last inserted row
    // (the inserted transactions are always a prefix of `txs`).
    const last = txs[done - 1];
    // Each row: ENTRY_COLUMNS (seq first, hash last), then the search vector.
    const width = ENTRY_COLUMNS.length + 1;
    if (last) this.rows.reset(Number(last[last.length - width]), String(last[last.length - 2]));
    return { rate: (done * perTx) / seconds, rows: done * perTx, description: `bare pg, ${connections} connection(s) in parallel, BEGIN + INSERT of ${perTx} row(s) + COMMIT each` };
  }

  /** Moves the chain head to the last row inserted (continueChain mode), keeping `verify` green. */
  async moveHead(ts: number): Promise<void> {
    const { seq, hash } = this.rows.head;
    const sql = 'UPDATE audit_chain_head SET seq = ?, hash = ?, ts = ? WHERE id = 1';
    if (this.sqlite) this.sqlite.prepare(sql).run(seq, hash, ts);
    else await this.pool!.query(toPgSql(sql), [seq, hash, ts]);
  }

  async close(): Promise<void> {
    this.sqlite?.close();
    await this.pool?.end();
  }

}

import Database from 'better-sqlite3';
import type { Database as SqliteConnection } from 'better-sqlite3';
import pg from 'pg';
import { loadMigrations } from '../../src/store/migrator.js';
import { PG_URL } from './backend.js';

/**
 * Bare database access for the baselines: the driver and nothing of Trailmark's code path,
 * with the same durability Trailmark ships (SQLite WAL + synchronous=FULL; PostgreSQL
 * committed transactions with its default synchronous_commit).
 */
export function openRawSqlite(path: string, readonly = false): SqliteConnection {
  const conn = new Database(path, { readonly, fileMustExist: readonly });
  conn.pragma('busy_timeout = 5000');
  if (!readonly) {
    conn.pragma('journal_mode = WAL');
    conn.pragma('synchronous = FULL');
  }
  return conn;
}

const INT8_OID = 20;
/** int8 as numbers, as Trailmark's pool parses them (so both sides do the same work). */
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format);
  },
};

export function openRawPg(schema: string, max: number): pg.Pool {
  const pool = new pg.Pool({ connectionString: PG_URL, max, types, options: `-c search_path=${schema}` });
  pool.on('error', () => undefined);
  return pool;
}

/** One client in `schema`, for COPY and sequential timing. */
export async function openRawPgClient(schema: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: PG_URL, types, options: `-c search_path=${schema}` });
  await client.connect();
  return client;
}

/** The real migrations, applied to a scratch database by the bare driver. */
export function migrateRawSqlite(conn: SqliteConnection): void {
  for (const m of loadMigrations('sqlite')) conn.exec(m.sql);
}

export async function migrateRawPg(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    await client.query(`SET search_path TO "${schema}"`);
    for (const m of loadMigrations('postgres')) await client.query(m.sql);
    // The partition a live server has for the current month (its PartitionsJob makes it at
    // start), so the bare inserts go where the server's do rather than into the default one.
    const d = new Date();
    const from = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
    const to = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
    const name = `audit_entries_p${d.getUTCFullYear()}${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
    const partitioned = (await client.query("SELECT 1 FROM pg_partitioned_table pt JOIN pg_class c ON c.oid = pt.partrelid WHERE c.relname = 'audit_entries' AND c.relnamespace = current_schema()::regnamespace")).rowCount;
    if (partitioned) await client.query(`CREATE TABLE IF NOT EXISTS ${name} PARTITION OF audit_entries FOR VALUES FROM (${from}) TO (${to})`);
  } finally {
    await client.end();
  }
}

const numbered = new Map<string, string>();
/** `?` placeholders → `$1…`, as Trailmark's PostgreSQL driver numbers them. */
export function toPgSql(sql: string): string {
  let out = numbered.get(sql);
  if (out === undefined) {
    let n = 0;
    out = sql.replace(/\?/g, () => `$${++n}`);
    numbered.set(sql, out);
  }
  return out;
}

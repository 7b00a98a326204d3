import { cpus, loadavg, totalmem } from 'node:os';
import Database from 'better-sqlite3';
import pg from 'pg';
import { PG_URL } from './backend.js';

export interface MachineInfo {
  readonly cpus: number;
  readonly model: string;
  readonly memory: string;
  readonly node: string;
  readonly sqlite: string;
  readonly postgres: string | null;
  readonly postgres_settings?: Record<string, string>;
  readonly date: string;
  /** 1/5/15-minute load averages when the run started: other work on a shared machine shows here. */
  readonly load_average: number[];
}

/** What the figures were measured on: they only mean something beside this. */
export async function machineInfo(withPostgres: boolean): Promise<MachineInfo> {
  const mem = new Database(':memory:');
  const sqlite = (mem.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v;
  mem.close();
  let postgres: string | null = null;
  let settings: Record<string, string> | undefined;
  if (withPostgres) {
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    try {
      postgres = (await client.query<{ server_version: string }>('SHOW server_version')).rows[0]!.server_version;
      const { rows } = await client.query<{ name: string; setting: string; unit: string | null }>(
        "SELECT name, setting, unit FROM pg_settings WHERE name IN ('shared_buffers', 'synchronous_commit', 'fsync', 'wal_sync_method', 'work_mem', 'max_wal_size')",
      );
      settings = Object.fromEntries(rows.map((r) => [r.name, r.unit ? `${r.setting} ${r.unit}` : r.setting]));
    } finally {
      await client.end();
    }
  }
  return {
    cpus: cpus().length,
    model: cpus()[0]?.model.trim() ?? 'unknown',
    memory: `${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    node: process.version,
    sqlite,
    postgres,
    ...(settings ? { postgres_settings: settings } : {}),
    date: new Date().toISOString(),
    load_average: loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

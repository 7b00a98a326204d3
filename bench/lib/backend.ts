import { join } from 'node:path';
import pg from 'pg';

export type BackendName = 'sqlite' | 'postgres';
export const BACKENDS: readonly BackendName[] = ['sqlite', 'postgres'];

/** The PostgreSQL server the bench uses; each database it makes is a fresh schema there. */
export const PG_URL = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A fresh, empty database for one part of a run. */
export interface BenchDatabase {
  readonly backend: BackendName;
  /** The DATABASE_URL Trailmark takes. */
  readonly url: string;
  /** SQLite: the file path. PostgreSQL: the schema name. */
  readonly location: string;
  drop(): Promise<void>;
}

let counter = 0;

/** A new SQLite file under `runDir`, or a new PostgreSQL schema named `bench_<pid>_<n>_<label>`. */
export function freshDatabase(backend: BackendName, runDir: string, label: string): BenchDatabase {
  counter += 1;
  if (backend === 'sqlite') {
    const path = join(runDir, `${label}-${counter}.db`);
    // The whole run folder is removed at the end; nothing to drop one by one.
    return { backend, url: `sqlite:${path}`, location: path, drop: () => Promise.resolve() };
  }
  const schema = `bench_${process.pid}_${counter}_${label.replace(/[^a-z0-9_]/g, '_')}`;
  const url = new URL(PG_URL);
  url.searchParams.set('schema', schema);
  return { backend, url: url.toString(), location: schema, drop: () => dropSchema(schema) };
}

export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

/** Removes schemas a crashed earlier run left behind (`bench_<pid>_…` whose pid is gone). */
export async function dropStaleSchemas(): Promise<string[]> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    const { rows } = await client.query<{ nspname: string }>("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'bench\\_%'");
    const stale = rows.map((r) => r.nspname).filter((s) => !isAlive(Number(s.split('_')[1])));
    for (const s of stale) await client.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
    return stale;
  } finally {
    await client.end();
  }
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

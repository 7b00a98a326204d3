import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export type BackendName = 'sqlite' | 'postgres';

/** Backends every contract suite runs on; `DIALECTS=sqlite` (or postgres) narrows the list. */
export const BACKENDS: BackendName[] = (process.env.DIALECTS ?? 'sqlite,postgres')
  .split(',')
  .map((s) => s.trim())
  .filter((s): s is BackendName => s === 'sqlite' || s === 'postgres');

/** The PostgreSQL server tests use. Unreachable → the tests that need it fail; they never skip. */
export const TEST_PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDatabase {
  readonly url: string;
  readonly backend: BackendName;
  cleanup(): Promise<void>;
}

/** A fresh, empty database: a temp SQLite file, or a new PostgreSQL schema. */
export async function freshDatabaseUrl(backend: BackendName): Promise<TestDatabase> {
  if (backend === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'trailmark-test-'));
    return { url: `sqlite:${join(dir, 'trailmark.db')}`, backend, cleanup: () => Promise.resolve(rmSync(dir, { recursive: true, force: true })) };
  }
  const schema = `t_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const url = new URL(TEST_PG_URL);
  url.searchParams.set('schema', schema);
  return {
    url: url.toString(),
    backend,
    cleanup: async () => {
      const client = new pg.Client({ connectionString: TEST_PG_URL });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}

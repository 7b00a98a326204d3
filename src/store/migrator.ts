import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SqlDatabase } from './sql-database.js';

/** Plain SQL migrations, one folder per backend, at the package root. */
export const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'migrations');

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export function loadMigrations(dialect: 'sqlite' | 'postgres', dir = MIGRATIONS_DIR): Migration[] {
  return readdirSync(join(dir, dialect))
    .filter((f) => /^\d{3}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((f) => ({ version: Number(f.slice(0, 3)), name: f.slice(4, -4), sql: readFileSync(join(dir, dialect, f), 'utf8') }));
}

/**
 * Applies every pending migration in one transaction (all or none). On PostgreSQL an
 * advisory lock makes nodes that start together apply them once. Returns the versions applied.
 */
export async function migrate(db: SqlDatabase, now: () => number, migrations = loadMigrations(db.dialect.name)): Promise<number[]> {
  return db.transaction(async (tx) => {
    if (db.dialect.migrationLock) await tx.run(db.dialect.migrationLock);
    await tx.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)');
    const done = new Set((await tx.all<{ version: number }>('SELECT version FROM schema_migrations')).map((r) => r.version));
    const applied: number[] = [];
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      await tx.exec(m.sql);
      await tx.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [m.version, m.name, now()]);
      applied.push(m.version);
    }
    return applied;
  });
}

/** The newest schema version this build knows, and the one the database is at. */
export async function schemaStatus(db: SqlDatabase): Promise<{ expected: number; current: number }> {
  const expected = Math.max(0, ...loadMigrations(db.dialect.name).map((m) => m.version));
  const row = await db.get<{ v: number | null }>('SELECT MAX(version) AS v FROM schema_migrations');
  return { expected, current: row?.v ?? 0 };
}

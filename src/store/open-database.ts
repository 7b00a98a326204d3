import { resolve } from 'node:path';
import { PostgresDatabase } from './postgres/postgres-database.js';
import type { SqlDatabase } from './sql-database.js';
import { SqliteDatabase } from './sqlite/sqlite-database.js';

/**
 * Opens the database named by `DATABASE_URL`: `sqlite:PATH` (relative paths from the
 * working directory; `sqlite::memory:` for throwaway use) or `postgres://…`
 * (optionally `?schema=NAME`). Anything else is refused: there is no silent default.
 */
export async function openDatabase(url: string): Promise<SqlDatabase> {
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length);
    if (!path) throw new Error('DATABASE_URL sqlite: needs a file path, e.g. sqlite:./data/trailmark.db');
    return new SqliteDatabase(path === ':memory:' ? path : resolve(path));
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    return PostgresDatabase.open(url);
  }
  throw new Error(`DATABASE_URL must start with sqlite: or postgres:// (got '${url.split(':')[0] ?? ''}:…')`);
}

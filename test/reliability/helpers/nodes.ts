import { openDatabase } from '../../../src/store/open-database.js';
import type { SqlDatabase } from '../../../src/store/sql-database.js';
import { startServerProcess } from '../../support/server-process.js';
import type { ServerProcess } from '../../support/server-process.js';

export const ADMIN_PASSWORD = 'reliability-admin-password';
export const SECRET_KEY = 'reliability-secret-key-0123456789abcdefghij';

/**
 * The environment of a Trailmark process under test: its database, a fixed secret (so no
 * development key is written anywhere) and first-admin password, and API limits high enough
 * that load tests never meet them.
 */
export function nodeEnv(databaseUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    SECRET_KEY,
    TRAILMARK_ADMIN_PASSWORD: ADMIN_PASSWORD,
    RATE_LIMIT_API_PER_MINUTE: '10000000',
    RATE_LIMIT_LOGIN_PER_MINUTE: '100000',
    ...extra,
  };
}

/** Starts a real `trailmark start` process on the database. */
export function startNode(databaseUrl: string, extra: Record<string, string> = {}): Promise<ServerProcess> {
  return startServerProcess(nodeEnv(databaseUrl, extra), 60_000);
}

/** A direct connection to the database (to read what is really stored, or to tamper with it). */
export async function withDatabase<T>(url: string, fn: (db: SqlDatabase) => Promise<T>): Promise<T> {
  const db = await openDatabase(url);
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

import { copyFileSync, existsSync, rmSync, statSync } from 'node:fs';
import { SqlAuditStore } from '../audit/sql-audit-store.js';
import type { ChainVerification } from '../chain/chain-verifier.js';
import { verifyStoredChain } from '../chain/verify-stored-chain.js';
import { openSqliteConnection, SqliteDatabase } from '../store/sqlite/sqlite-database.js';

export interface BackupReport {
  readonly file: string;
  readonly bytes: number;
  readonly verification: ChainVerification;
}

/** Verifies the chain stored in a SQLite file (a backup, or a file about to be restored). */
export async function verifySqliteFile(file: string): Promise<ChainVerification> {
  const db = new SqliteDatabase(file);
  try {
    return await verifyStoredChain(new SqlAuditStore(db, () => Date.now()));
  } finally {
    await db.close();
  }
}

/**
 * An online, consistent copy of a live SQLite database (SQLite's backup API, copied in one
 * step so concurrent writers cannot make it restart), then a full chain verification of the
 * copy. A copy that does not verify is deleted and the call fails.
 */
export async function backupSqlite(source: string, destination: string): Promise<BackupReport> {
  if (existsSync(destination)) throw new Error(`${destination} exists already; choose a new file name`);
  const conn = openSqliteConnection(source, true);
  try {
    await conn.backup(destination, { progress: () => 1_000_000_000 });
  } finally {
    conn.close();
  }
  const verification = await verifySqliteFile(destination);
  if (!verification.ok) {
    rmSync(destination, { force: true });
    throw new Error(`the copy does not verify (seq ${verification.first_bad_seq}: ${verification.reason}); it was deleted`);
  }
  return { file: destination, bytes: statSync(destination).size, verification };
}

/**
 * Restores a backup into `target` (the service must be stopped): refuses a copy whose chain
 * does not verify, and an existing target unless `force`.
 */
export async function restoreSqlite(backup: string, target: string, force: boolean): Promise<ChainVerification> {
  if (!existsSync(backup)) throw new Error(`${backup} does not exist`);
  const verification = await verifySqliteFile(backup);
  if (!verification.ok) throw new Error(`refusing to restore: the backup's chain does not verify (seq ${verification.first_bad_seq}: ${verification.reason})`);
  if (existsSync(target) && !force) throw new Error(`${target} exists; stop Trailmark and pass --force to replace it`);
  for (const suffix of ['-wal', '-shm']) rmSync(`${target}${suffix}`, { force: true });
  copyFileSync(backup, target);
  return verification;
}

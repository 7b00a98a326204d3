import type { Role } from '../auth/access.js';
import type { SqlDatabase, SqlExecutor } from '../store/sql-database.js';

export interface UserRecord {
  readonly id: string;
  readonly username: string;
  readonly password_hash: string;
  readonly role: Role;
  readonly disabled: boolean;
  readonly failed_count: number;
  readonly failed_window_start: number | null;
  readonly locked_until: number | null;
  readonly created_at: number;
  readonly updated_at: number;
}

type UserRow = Omit<UserRecord, 'disabled'> & { disabled: number };
const COLUMNS = 'id, username, password_hash, role, disabled, failed_count, failed_window_start, locked_until, created_at, updated_at';
const toRecord = (r: UserRow): UserRecord => ({ ...r, disabled: r.disabled === 1 });

/** Users in the database. Writes take an executor so they can join an audited transaction. */
export class UserStore {
  constructor(private readonly db: SqlDatabase) {}

  async count(): Promise<number> {
    return Number((await this.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM users'))?.n ?? 0);
  }

  async byUsername(username: string): Promise<UserRecord | undefined> {
    const row = await this.db.get<UserRow>(`SELECT ${COLUMNS} FROM users WHERE username = ?`, [username]);
    return row && toRecord(row);
  }

  async byId(id: string): Promise<UserRecord | undefined> {
    const row = await this.db.get<UserRow>(`SELECT ${COLUMNS} FROM users WHERE id = ?`, [id]);
    return row && toRecord(row);
  }

  async list(): Promise<UserRecord[]> {
    return (await this.db.all<UserRow>(`SELECT ${COLUMNS} FROM users ORDER BY username`)).map(toRecord);
  }

  async insert(tx: SqlExecutor, u: Pick<UserRecord, 'id' | 'username' | 'password_hash' | 'role' | 'created_at'>): Promise<void> {
    await tx.run(
      'INSERT INTO users (id, username, password_hash, role, disabled, failed_count, created_at, updated_at) VALUES (?, ?, ?, ?, 0, 0, ?, ?)',
      [u.id, u.username, u.password_hash, u.role, u.created_at, u.created_at],
    );
  }

  /**
   * Counts a sign-in attempt before its password is checked, atomically, so parallel guesses
   * each count: refused (`locked`) when the account is locked, or when `threshold` attempts are
   * already counted in the window (the account is then locked at once). A success clears the
   * count (`clearFailures`).
   */
  async registerAttempt(id: string, now: number, policy: { lockoutThreshold: number; lockoutWindowMs: number; lockDurationMs: number }): Promise<{ locked: boolean; count: number; lockedUntil: number | null }> {
    return this.db.transaction(async (tx) => {
      const u = await tx.get<{ failed_count: number; failed_window_start: number | null; locked_until: number | null }>(
        `SELECT failed_count, failed_window_start, locked_until FROM users WHERE id = ?${tx.dialect.lockForUpdate}`,
        [id],
      );
      if (!u) return { locked: false, count: 0, lockedUntil: null };
      if (u.locked_until !== null && u.locked_until > now) return { locked: true, count: u.failed_count, lockedUntil: u.locked_until };
      const windowOpen = u.failed_window_start !== null && now - u.failed_window_start < policy.lockoutWindowMs;
      const count = windowOpen ? u.failed_count + 1 : 1;
      const lockedUntil = count > policy.lockoutThreshold ? now + policy.lockDurationMs : null;
      await tx.run('UPDATE users SET failed_count = ?, failed_window_start = ?, locked_until = ?, updated_at = ? WHERE id = ?', [
        count, windowOpen ? u.failed_window_start : now, lockedUntil, now, id,
      ]);
      return { locked: lockedUntil !== null, count, lockedUntil };
    });
  }

  /** Locks sign-in until `until` (the attempt that reached the threshold failed). */
  async lock(id: string, until: number, now: number): Promise<void> {
    await this.db.run('UPDATE users SET locked_until = ?, updated_at = ? WHERE id = ?', [until, now, id]);
  }

  /** Enabled admins other than `exceptId` (run inside the change's transaction). */
  async otherActiveAdmins(tx: SqlExecutor, exceptId: string): Promise<number> {
    const row = await tx.get<{ n: number }>("SELECT COUNT(*) AS n FROM users WHERE role = 'admin' AND disabled = 0 AND id <> ?", [exceptId]);
    return Number(row?.n ?? 0);
  }

  async update(tx: SqlExecutor, id: string, fields: { role?: string; password_hash?: string; disabled?: boolean }, now: number): Promise<void> {
    const columns: Array<[string, string | number]> = [];
    if (fields.role !== undefined) columns.push(['role', fields.role]);
    if (fields.password_hash !== undefined) columns.push(['password_hash', fields.password_hash]);
    if (fields.disabled !== undefined) columns.push(['disabled', fields.disabled ? 1 : 0]);
    columns.push(['updated_at', now]);
    await tx.run(`UPDATE users SET ${columns.map(([c]) => `${c} = ?`).join(', ')} WHERE id = ?`, [...columns.map(([, v]) => v), id]);
  }

  async delete(tx: SqlExecutor, id: string): Promise<number> {
    return tx.run('DELETE FROM users WHERE id = ?', [id]);
  }

  async clearFailures(id: string, now: number, tx: SqlExecutor = this.db): Promise<void> {
    await tx.run('UPDATE users SET failed_count = 0, failed_window_start = NULL, locked_until = NULL, updated_at = ? WHERE id = ?', [now, id]);
  }
}

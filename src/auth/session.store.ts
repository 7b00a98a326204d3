import type { Role } from './access.js';
import { randomSecret, sha256Hex } from '../lib/secrets.js';
import type { SqlExecutor } from '../store/sql-database.js';

export interface SessionLimits {
  /** A session unused this long ends (ms). */
  readonly idleMs: number;
  /** A session ends this long after sign-in, used or not (ms). */
  readonly absoluteMs: number;
}

export interface ActiveSession {
  readonly idHash: string;
  readonly userId: string;
  readonly username: string;
  readonly role: Role;
  readonly csrfToken: string;
}

/** How often `last_seen_at` is written at most, so reads do not become writes on every request. */
const TOUCH_INTERVAL_MS = 60_000;

/**
 * Server-side sessions. The cookie holds a random id; the database keeps only its SHA-256,
 * so a copy of the database does not hand out live sessions.
 */
export class SessionStore {
  constructor(private readonly db: SqlExecutor) {}

  async create(tx: SqlExecutor, userId: string, now: number, ip: string | null, userAgent: string | null): Promise<{ cookie: string; csrfToken: string; idHash: string }> {
    const cookie = randomSecret(32);
    const csrfToken = randomSecret(32);
    const idHash = sha256Hex(cookie);
    await tx.run('INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, last_seen_at, ip, user_agent) VALUES (?, ?, ?, ?, ?, ?, ?)', [
      idHash, userId, csrfToken, now, now, ip, userAgent,
    ]);
    return { cookie, csrfToken, idHash };
  }

  /** The live session for a cookie value, or undefined (unknown, expired, user disabled). */
  async resolve(cookie: string, now: number, limits: SessionLimits): Promise<ActiveSession | undefined> {
    const idHash = sha256Hex(cookie);
    const row = await this.db.get<{ user_id: string; csrf_token: string; created_at: number; last_seen_at: number; username: string; role: Role; disabled: number }>(
      `SELECT s.user_id, s.csrf_token, s.created_at, s.last_seen_at, u.username, u.role, u.disabled
         FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = ?`,
      [idHash],
    );
    if (!row || row.disabled === 1) return undefined;
    if (now - row.last_seen_at > limits.idleMs || now - row.created_at > limits.absoluteMs) {
      await this.db.run('DELETE FROM sessions WHERE id_hash = ?', [idHash]);
      return undefined;
    }
    if (now - row.last_seen_at > TOUCH_INTERVAL_MS) await this.db.run('UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?', [now, idHash]);
    return { idHash, userId: row.user_id, username: row.username, role: row.role, csrfToken: row.csrf_token };
  }

  async delete(tx: SqlExecutor, idHash: string): Promise<void> {
    await tx.run('DELETE FROM sessions WHERE id_hash = ?', [idHash]);
  }

  async deleteForUser(tx: SqlExecutor, userId: string, exceptIdHash?: string): Promise<number> {
    return exceptIdHash
      ? tx.run('DELETE FROM sessions WHERE user_id = ? AND id_hash <> ?', [userId, exceptIdHash])
      : tx.run('DELETE FROM sessions WHERE user_id = ?', [userId]);
  }
}

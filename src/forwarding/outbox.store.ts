import { v7 as uuidv7 } from 'uuid';
import type { SqlDatabase, SqlExecutor } from '../store/sql-database.js';

export interface OutboxRow {
  delivery_id: string;
  rule_id: string;
  entry_seq: number;
  status: 'pending' | 'delivered' | 'dead';
  attempts: number;
  next_attempt_at: number;
  created_at: number;
  delivered_at: number | null;
  last_error: string | null;
  last_status: number | null;
}

const COLUMNS = 'delivery_id, rule_id, entry_seq, status, attempts, next_attempt_at, created_at, delivered_at, last_error, last_status';

/**
 * The delivery outbox of every channel type (the table keeps its first name, webhook_outbox):
 * one row per (entry, rule), claimed by delivery workers under a lease.
 */
export class OutboxStore {
  constructor(private readonly db: SqlDatabase) {}

  async add(tx: SqlExecutor, items: ReadonlyArray<{ ruleId: string; seq: number }>, now: number): Promise<void> {
    for (let i = 0; i < items.length; i += 500) {
      const chunk = items.slice(i, i + 500);
      await tx.run(
        `INSERT INTO webhook_outbox (delivery_id, rule_id, entry_seq, status, attempts, next_attempt_at, created_at) VALUES ${chunk.map(() => "(?, ?, ?, 'pending', 0, ?, ?)").join(', ')}`,
        chunk.flatMap((it) => [uuidv7(), it.ruleId, it.seq, now, now]),
      );
    }
  }

  /** Takes up to `limit` due deliveries for this worker until `leaseUntil`. */
  async claim(now: number, leaseUntil: number, limit: number): Promise<OutboxRow[]> {
    return this.db.transaction(async (tx) => {
      const due = await tx.all<{ delivery_id: string }>(
        `SELECT delivery_id FROM webhook_outbox WHERE status = 'pending' AND next_attempt_at <= ? AND lease_until < ? ORDER BY next_attempt_at, entry_seq LIMIT ?${tx.dialect.skipLocked}`,
        [now, now, limit],
      );
      if (due.length === 0) return [];
      const ids = due.map((d) => d.delivery_id);
      const marks = ids.map(() => '?').join(', ');
      await tx.run(`UPDATE webhook_outbox SET lease_until = ? WHERE delivery_id IN (${marks})`, [leaseUntil, ...ids]);
      return tx.all<OutboxRow>(`SELECT ${COLUMNS} FROM webhook_outbox WHERE delivery_id IN (${marks}) ORDER BY entry_seq`, ids);
    });
  }

  async delivered(id: string, status: number | null, now: number): Promise<void> {
    await this.db.run("UPDATE webhook_outbox SET status = 'delivered', delivered_at = ?, last_status = ?, last_error = NULL, attempts = attempts + 1, lease_until = 0 WHERE delivery_id = ?", [now, status, id]);
  }

  async failed(id: string, error: string, status: number | null, nextAttemptAt: number | null): Promise<void> {
    await this.db.run(
      `UPDATE webhook_outbox SET status = ?, attempts = attempts + 1, last_error = ?, last_status = ?, next_attempt_at = COALESCE(?, next_attempt_at), lease_until = 0 WHERE delivery_id = ?`,
      [nextAttemptAt === null ? 'dead' : 'pending', error.slice(0, 500), status, nextAttemptAt, id],
    );
  }

  recent(ruleId: string, limit: number): Promise<OutboxRow[]> {
    return this.db.all<OutboxRow>(`SELECT ${COLUMNS} FROM webhook_outbox WHERE rule_id = ? ORDER BY created_at DESC, entry_seq DESC LIMIT ?`, [ruleId, limit]);
  }

  async counts(ruleId: string): Promise<Record<'pending' | 'delivered' | 'dead', number>> {
    const rows = await this.db.all<{ status: 'pending' | 'delivered' | 'dead'; n: number }>('SELECT status, COUNT(*) AS n FROM webhook_outbox WHERE rule_id = ? GROUP BY status', [ruleId]);
    const out = { pending: 0, delivered: 0, dead: 0 };
    for (const r of rows) out[r.status] = Number(r.n);
    return out;
  }

  /** When the longest-waiting due delivery was due, or null. */
  async oldestDue(): Promise<number | null> {
    return (await this.db.get<{ t: number | null }>("SELECT MIN(next_attempt_at) AS t FROM webhook_outbox WHERE status = 'pending'"))?.t ?? null;
  }

  /** Pending deliveries in all (the outbox depth). */
  async depth(): Promise<number> {
    return Number((await this.db.get<{ n: number }>("SELECT COUNT(*) AS n FROM webhook_outbox WHERE status = 'pending'"))?.n ?? 0);
  }
}

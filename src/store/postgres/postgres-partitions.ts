import { ENTRY_COLUMNS } from '../audit-entries-table.js';
import type { ChainAnchor } from '../../chain/chain-verifier.js';
import type { PartitionManager } from '../partitions.js';
import type { SqlDatabase, SqlExecutor } from '../sql-database.js';

const MONTHS_AHEAD = 2;
const NAME = /^audit_entries_p(\d{4})(\d{2})$/;

const monthStart = (year: number, month: number): number => Date.UTC(year, month, 1);
const nameOf = (year: number, month: number): string => `audit_entries_p${year}${String(month + 1).padStart(2, '0')}`;

/** PostgreSQL's lock_not_available (a lock_timeout expired). */
const LOCK_NOT_AVAILABLE = '55P03';
/** Longest a partition drop waits for readers and appends to leave the audit table. */
const DROP_LOCK_TIMEOUT_MS = 2_000;
/** How long a partition whose drop timed out is left to row deletes before the drop is tried again. */
const BUSY_RETRY_MS = 60_000;

/** Monthly range partitions of `audit_entries` on `ts` (ms since the epoch). */
export class PostgresPartitions implements PartitionManager {
  /** Partitions whose drop found readers, by name: when to try dropping them again (ms). */
  private readonly busyUntil = new Map<string, number>();
  constructor(private readonly db: SqlDatabase) {}

  /** Nodes starting together serialise on an advisory lock, so each month is created once. */
  async ensure(now: number): Promise<{ created: string[] }> {
    return this.db.transaction(async (tx) => {
      await tx.run('SELECT pg_advisory_xact_lock(7240302)');
      return this.ensureLocked(tx, now);
    });
  }

  private async ensureLocked(tx: SqlExecutor, now: number): Promise<{ created: string[] }> {
    const d = new Date(now);
    const existing = new Set(await this.list(tx));
    const created: string[] = [];
    for (let i = 0; i <= MONTHS_AHEAD; i++) {
      const y = d.getUTCFullYear() + Math.floor((d.getUTCMonth() + i) / 12);
      const m = (d.getUTCMonth() + i) % 12;
      const name = nameOf(y, m);
      if (existing.has(name)) continue;
      const from = monthStart(y, m);
      const to = monthStart(y, m + 1);
      const stray = await tx.get<{ x: number }>('SELECT 1 AS x FROM audit_entries_default WHERE ts >= ? AND ts < ? LIMIT 1', [from, to]);
      if (stray) await this.adoptFromDefault(tx, name, from, to);
      else await tx.exec(`CREATE TABLE IF NOT EXISTS ${name} PARTITION OF audit_entries FOR VALUES FROM (${from}) TO (${to})`);
      created.push(name);
    }
    return { created };
  }

  async dropOldest(cutoff: number): Promise<{ removed: number; anchor: ChainAnchor; partition: string } | null> {
    const candidates = (await this.list())
      .map((name) => {
        const m = NAME.exec(name)!;
        return { name, end: monthStart(Number(m[1]), Number(m[2])) };
      })
      .filter((p) => p.end <= cutoff)
      .sort((a, b) => a.end - b.end);
    const oldest = candidates[0];
    if (!oldest || (this.busyUntil.get(oldest.name) ?? 0) > Date.now()) return null;
    try {
      return await this.dropLocked(oldest.name);
    } catch (err) {
      // A long read (an export or a verify holds its snapshot for its whole run) has the
      // partition open: rather than stall every append behind the head lock until it ends,
      // give up on the drop; the caller removes the rows in batches instead, which readers do
      // not block, and a later run drops the empty table.
      if ((err as { code?: unknown }).code === LOCK_NOT_AVAILABLE) {
        // Not again for a while: each try holds appends back for up to the lock timeout.
        this.busyUntil.set(oldest.name, Date.now() + BUSY_RETRY_MS);
        return null;
      }
      throw err;
    }
  }

  private dropLocked(name: string): Promise<{ removed: number; anchor: ChainAnchor; partition: string } | null> {
    const oldest = { name };
    return this.db.transaction(async (tx) => {
      // Dropping a partition locks the whole audit table. Appends lock the table before the
      // chain head (batches insert first; see Dialect.appendLock), so this takes them in that
      // order too: the table, then the head, then the partition. Appends and reads queue behind
      // the table lock while this waits for it: never for long.
      await tx.run(`SET LOCAL lock_timeout = '${DROP_LOCK_TIMEOUT_MS}ms'`);
      await tx.run('LOCK TABLE ONLY audit_entries IN ACCESS EXCLUSIVE MODE');
      await tx.get('SELECT seq FROM audit_chain_head WHERE id = 1 FOR UPDATE');
      await tx.run(`LOCK TABLE ${oldest.name} IN ACCESS EXCLUSIVE MODE`);
      const last = await tx.get<{ seq: number; hash: string; n: number; min_seq: number | null }>(
        `SELECT (SELECT seq FROM ${oldest.name} ORDER BY seq DESC LIMIT 1) AS seq, (SELECT hash FROM ${oldest.name} ORDER BY seq DESC LIMIT 1) AS hash,
                (SELECT COUNT(*) FROM ${oldest.name}) AS n, (SELECT MIN(seq) FROM ${oldest.name}) AS min_seq`,
      );
      if (last?.min_seq !== null && last?.min_seq !== undefined) {
        // Only a prefix of the chain may go: nothing older may remain elsewhere.
        const older = await tx.get<{ x: number }>('SELECT 1 AS x FROM audit_entries WHERE seq < ? LIMIT 1', [last.min_seq]);
        if (older) return null;
      }
      await tx.exec(`DROP TABLE ${oldest.name}`);
      if (!last || last.seq === null) return { removed: 0, anchor: await this.anchor(tx), partition: oldest.name };
      await tx.run('UPDATE audit_chain_head SET anchor_seq = ?, anchor_hash = ? WHERE id = 1', [last.seq, last.hash]);
      return { removed: Number(last.n), anchor: { seq: last.seq, hash: last.hash }, partition: oldest.name };
    });
  }

  /**
   * Rows of the month already sit in the default partition (partitions were not made ahead,
   * e.g. after an upgrade): move them into a new table and attach it, in one transaction.
   * The rows are moved unchanged, so the chain is untouched.
   */
  private async adoptFromDefault(tx: SqlExecutor, name: string, from: number, to: number): Promise<void> {
    // Every column, the stored search vector included.
    const cols = [...ENTRY_COLUMNS, 'search'].join(', ');
    await tx.exec(`LOCK TABLE audit_entries_default IN ACCESS EXCLUSIVE MODE`);
    await tx.exec(`CREATE TABLE ${name} (LIKE audit_entries INCLUDING ALL)`);
    await tx.run(`INSERT INTO ${name} (${cols}) SELECT ${cols} FROM audit_entries_default WHERE ts >= ? AND ts < ?`, [from, to]);
    await tx.run('DELETE FROM audit_entries_default WHERE ts >= ? AND ts < ?', [from, to]);
    await tx.exec(`ALTER TABLE audit_entries ATTACH PARTITION ${name} FOR VALUES FROM (${from}) TO (${to})`);
  }

  private async anchor(tx: Pick<SqlDatabase, 'get'>): Promise<ChainAnchor> {
    const row = await tx.get<ChainAnchor>('SELECT anchor_seq AS seq, anchor_hash AS hash FROM audit_chain_head WHERE id = 1');
    return row!;
  }

  private async list(tx: Pick<SqlExecutor, 'all'> = this.db): Promise<string[]> {
    const rows = await tx.all<{ name: string }>(
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
        WHERE p.relname = 'audit_entries' AND p.relnamespace = current_schema()::regnamespace`,
    );
    return rows.map((r) => r.name).filter((n) => NAME.test(n));
  }
}

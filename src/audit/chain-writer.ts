import { chainHash } from '../chain/entry-hash.js';
import type { SqlDatabase, SqlExecutor } from '../store/sql-database.js';
import { withSavepoint } from '../store/sql-database.js';
import type { PendingEntry, StoredEntry } from './audit-entry.js';
import type { ChainHead, WithinAppend } from './audit.store.js';
import { ENTRY_COLUMNS, entryToParams } from './entry-row.js';

interface QueuedAppend {
  readonly entries: readonly PendingEntry[];
  readonly within?: WithinAppend;
  readonly resolve: (stored: StoredEntry[]) => void;
  readonly reject: (err: unknown) => void;
}

/** The group's transaction failed (database unreachable, disk full…): nothing was stored. */
export class StoreWriteError extends Error {
  constructor(override readonly cause: unknown) {
    super(`audit store write failed: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'StoreWriteError';
  }
}

/** Most entries one group transaction takes; later appends wait for the next group. */
const MAX_GROUP_ENTRIES = 5_000;

/**
 * The one writer of the chain (group commit). Appends queue up; each flush takes the queue
 * into a single transaction that reads the chain head (row-locked on PostgreSQL, so several
 * Trailmark nodes append in turn), assigns seq, ts and hashes, inserts, moves the head and
 * commits. Every caller in the group is answered only after that commit, so throughput
 * grows with concurrency while each acknowledgement stays durable. An append carrying
 * `within` work runs in its own savepoint: if that work fails, only that append is refused.
 */
export class ChainWriter {
  private queue: QueuedAppend[] = [];
  private running = false;
  private readonly insertChunk: number;

  /**
   * Work done in the same transaction as every insert (e.g. the webhook outbox), so what it
   * writes exists exactly when the entries do.
   */
  afterInsert: ((tx: SqlExecutor, stored: readonly StoredEntry[]) => Promise<void>) | undefined;
  /** Told the size of each committed group (metrics). */
  onGroupCommitted: ((entries: number) => void) | undefined;

  constructor(
    private readonly db: SqlDatabase,
    private readonly now: () => number,
  ) {
    this.insertChunk = Math.min(500, Math.floor(db.dialect.maxParams / ENTRY_COLUMNS.length));
  }

  append(entries: readonly PendingEntry[], within?: WithinAppend): Promise<StoredEntry[]> {
    return new Promise((resolve, reject) => {
      this.queue.push({ entries, within, resolve, reject });
      if (!this.running) {
        this.running = true;
        // Let the current event-loop turn queue more appends before the group starts.
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const group = this.takeGroup();
      await this.commitGroup(group);
    }
    this.running = false;
  }

  private takeGroup(): QueuedAppend[] {
    let total = 0;
    let n = 0;
    while (n < this.queue.length && (n === 0 || total + this.queue[n]!.entries.length <= MAX_GROUP_ENTRIES)) {
      total += this.queue[n]!.entries.length;
      n += 1;
    }
    return this.queue.splice(0, n);
  }

  private async commitGroup(group: QueuedAppend[]): Promise<void> {
    const outcomes: Array<{ stored?: StoredEntry[]; error?: unknown }> = [];
    try {
      await this.db.transaction(async (tx) => {
        outcomes.length = 0;
        let head = await this.readHead(tx);
        for (const item of group) {
          try {
            const run = async (): Promise<StoredEntry[]> => {
              if (item.within) await item.within(tx);
              const stored = this.link(item.entries, head);
              try {
                await this.insert(tx, stored);
                if (this.afterInsert && stored.length > 0) await this.afterInsert(tx, stored);
              } catch (err) {
                // The store refused the entries themselves (disk full, a row squatting on the next
                // seq…): that is the store failing, not the caller's work.
                throw err instanceof StoreWriteError ? err : new StoreWriteError(err);
              }
              return stored;
            };
            const stored = item.within ? await withSavepoint(tx, run) : await run();
            const last = stored[stored.length - 1];
            if (last) head = { seq: last.seq, hash: last.hash, ts: last.ts };
            outcomes.push({ stored });
          } catch (error) {
            if (!item.within || error instanceof StoreWriteError) throw error;
            outcomes.push({ error });
          }
        }
        await tx.run('UPDATE audit_chain_head SET seq = ?, hash = ?, ts = ? WHERE id = 1', [head.seq, head.hash, head.ts]);
      });
    } catch (err) {
      const failure = err instanceof StoreWriteError ? err : new StoreWriteError(err);
      for (const item of group) item.reject(failure);
      return;
    }
    this.onGroupCommitted?.(outcomes.reduce((n, o) => n + (o.stored?.length ?? 0), 0));
    group.forEach((item, i) => {
      const outcome = outcomes[i]!;
      if (outcome.stored) item.resolve(outcome.stored);
      else item.reject(outcome.error);
    });
  }

  private async readHead(tx: SqlExecutor): Promise<ChainHead> {
    const head = await tx.get<ChainHead>(`SELECT seq, hash, ts FROM audit_chain_head WHERE id = 1${tx.dialect.lockForUpdate}`);
    if (!head) throw new Error('audit_chain_head is missing: the database was not migrated');
    return head;
  }

  /** Places entries after `head`: seq + 1 each, ts never below the head's, hash-linked. */
  private link(entries: readonly PendingEntry[], head: ChainHead): StoredEntry[] {
    const ts = Math.max(this.now(), head.ts);
    let prevHash = head.hash;
    let seq = head.seq;
    return entries.map((pending) => {
      seq += 1;
      const base = { ...pending, seq, ts };
      const hash = chainHash(prevHash, base);
      const stored: StoredEntry = { ...base, prev_hash: prevHash, hash };
      prevHash = hash;
      return stored;
    });
  }

  private async insert(tx: SqlExecutor, rows: readonly StoredEntry[]): Promise<void> {
    const rowSql = `(${ENTRY_COLUMNS.map(() => '?').join(', ')})`;
    for (let i = 0; i < rows.length; i += this.insertChunk) {
      const chunk = rows.slice(i, i + this.insertChunk);
      const sql = `INSERT INTO audit_entries (${ENTRY_COLUMNS.join(', ')}) VALUES ${chunk.map(() => rowSql).join(', ')}`;
      await tx.run(sql, chunk.flatMap(entryToParams));
    }
  }
}

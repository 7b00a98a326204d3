import { chainHash } from '../chain/entry-hash.js';
import type { SqlDatabase, SqlExecutor, SqlParams } from '../store/sql-database.js';
import { withSavepoint } from '../store/sql-database.js';
import type { PendingEntry, StoredEntry } from './audit-entry.js';
import type { ChainHead, WithinAppend } from './audit.store.js';
import { ENTRY_COLUMN_TYPES, entryToParams } from './entry-row.js';

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
/** Optimistic tries before a group falls back to reading the head inside its transaction. */
const MAX_OPTIMISTIC_TRIES = 3;
/** Batched groups in flight at once: one being written while the next is prepared and sent. */
const MAX_IN_FLIGHT = 2;
/** How long a writer that met another writer's entries keeps to the locked path. */
const CONTENTION_BACKOFF_MS = 1_000;
const HEAD_GUARD_SQL = 'SELECT seq, hash, ts FROM audit_chain_head WHERE id = 1';
const MOVE_HEAD_SQL = 'UPDATE audit_chain_head SET seq = ?, hash = ?, ts = ? WHERE id = 1';

const headMissing = (): Error => new Error('audit_chain_head is missing: the database was not migrated');

/** The head after `stored` (or `head` itself when nothing was stored). */
const headAfter = (stored: readonly StoredEntry[], head: ChainHead): ChainHead => {
  const last = stored[stored.length - 1];
  return last ? { seq: last.seq, hash: last.hash, ts: last.ts } : head;
};

/**
 * Collects the statements the after-insert work would run, for a batched commit. That work
 * only writes (the outbox rows); a read here would be a programming error, so it throws.
 */
class StatementRecorder implements SqlExecutor {
  readonly statements: Array<readonly [string, SqlParams]> = [];
  constructor(readonly dialect: SqlExecutor['dialect']) {}
  run(sql: string, params: SqlParams = []): Promise<number> {
    this.statements.push([sql, params]);
    return Promise.resolve(0);
  }
  all<T>(): Promise<T[]> {
    return Promise.reject(new Error('reads are not available to after-insert work in a batched commit'));
  }
  get<T>(): Promise<T | undefined> {
    return Promise.reject(new Error('reads are not available to after-insert work in a batched commit'));
  }
  exec(): Promise<void> {
    return Promise.reject(new Error('scripts are not available to after-insert work in a batched commit'));
  }
}

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
  /**
   * Where the next batched group links: the tail of the newest group submitted (committed or
   * still in flight), or undefined when unknown (start, after a failure or a conflict).
   */
  private linkAfter: ChainHead | undefined;
  /** Until when appends take the locked path because another writer moved the head (ms). */
  private contendedUntil = 0;
  /** Batched groups submitted and not yet settled, oldest first. */
  private readonly inFlight: Array<Promise<void>> = [];

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
  ) {}

  append(entries: readonly PendingEntry[], within?: WithinAppend): Promise<StoredEntry[]> {
    return new Promise((resolve, reject) => {
      this.queue.push({ entries, within, resolve, reject });
      if (!this.running) {
        this.running = true;
        // Let the current event-loop turn queue more appends before the group starts.
        setImmediate(() => void this.drain().catch((err: unknown) => this.failQueued(err)));
      }
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const contended = Date.now() < this.contendedUntil;
      if (!this.db.batch || contended || this.queue[0]!.within) {
        // Appends with work of their own, and every append while other writers keep moving the
        // head, run in a transaction that reads the head under its lock.
        await this.settleInFlight();
        await this.commitLocked(this.takeGroup(this.db.batch && !contended ? 'with-work' : 'any'));
        continue;
      }
      while (this.inFlight.length >= MAX_IN_FLIGHT) await this.inFlight[0];
      if (!this.linkAfter) {
        await this.settleInFlight();
        try {
          this.linkAfter = await this.db.get<ChainHead>(HEAD_GUARD_SQL);
          if (!this.linkAfter) throw headMissing();
        } catch (err) {
          // The database cannot be read (down, unreachable): this group is refused, nothing was
          // written; the next group tries again.
          const failure = err instanceof StoreWriteError ? err : new StoreWriteError(err);
          for (const item of this.takeGroup('without-work')) item.reject(failure);
          continue;
        }
      }
      const group = this.takeGroup('without-work');
      const predecessor = this.inFlight[this.inFlight.length - 1] ?? Promise.resolve();
      const done = this.commitBatched(group, this.linkAfter, predecessor);
      this.inFlight.push(done);
      void done.then(() => this.inFlight.splice(this.inFlight.indexOf(done), 1));
    }
    this.running = false;
  }

  /** A failure of the drain loop itself: every queued append is refused, and the next append starts over. */
  private failQueued(err: unknown): void {
    this.running = false;
    this.linkAfter = undefined;
    const failure = err instanceof StoreWriteError ? err : new StoreWriteError(err);
    for (const item of this.queue.splice(0)) item.reject(failure);
  }

  private async settleInFlight(): Promise<void> {
    while (this.inFlight.length > 0) await this.inFlight[0];
  }

  /** The next appends, up to MAX_GROUP_ENTRIES: any, or only those with (without) work of their own. */
  private takeGroup(kind: 'any' | 'with-work' | 'without-work'): QueuedAppend[] {
    let total = 0;
    let n = 0;
    while (
      n < this.queue.length &&
      (kind === 'any' || (this.queue[n]!.within !== undefined) === (kind === 'with-work')) &&
      (n === 0 || total + this.queue[n]!.entries.length <= MAX_GROUP_ENTRIES)
    ) {
      total += this.queue[n]!.entries.length;
      n += 1;
    }
    return this.queue.splice(0, Math.max(n, 1));
  }

  /**
   * A group as one guarded batch (backends with `batch`): its entries are linked after the
   * tail of the group before it, outside any lock and while that group may still be in
   * flight, and the batch commits only if the head is then exactly that tail. Up to
   * MAX_IN_FLIGHT groups are in flight, so preparing one overlaps the database writing the
   * other. When the guard fails (the group before failed, or another process or node
   * appended), the group waits for the one before it to settle, links again after the head
   * as it now is and retries; after MAX_OPTIMISTIC_TRIES it takes the locked path.
   */
  private async commitBatched(group: QueuedAppend[], base: ChainHead, predecessor: Promise<void>): Promise<void> {
    const batch = this.db.batch!.bind(this.db);
    let head: ChainHead | undefined = base;
    try {
      for (let attempt = 0; attempt < MAX_OPTIMISTIC_TRIES; attempt += 1) {
        if (!head) throw headMissing();
        const storedPerItem: StoredEntry[][] = [];
        let tail = head;
        for (const item of group) {
          const stored = this.link(item.entries, tail);
          tail = headAfter(stored, tail);
          storedPerItem.push(stored);
        }
        // Set before the first await: the next group links after this one.
        if (attempt === 0) this.linkAfter = tail;
        const all = storedPerItem.flat();
        const recorder = new StatementRecorder(this.db.dialect);
        recorder.statements.push(...this.insertStatements(all));
        if (this.afterInsert && all.length > 0) await this.afterInsert(recorder, all);
        const result = await batch({
          guard: { sql: HEAD_GUARD_SQL, params: [], expect: { seq: head.seq, hash: head.hash } },
          statements: recorder.statements,
          final: [MOVE_HEAD_SQL, [tail.seq, tail.hash, tail.ts]],
        });
        if (result.applied) {
          this.onGroupCommitted?.(all.length);
          group.forEach((item, i) => item.resolve(storedPerItem[i]!));
          return;
        }
        // Someone else's entries sit where these were to go: start again from the real head.
        // If that was another process or node, take turns under the lock for a while.
        this.linkAfter = undefined;
        this.contendedUntil = Date.now() + CONTENTION_BACKOFF_MS;
        await predecessor;
        head = await this.db.get<ChainHead>(HEAD_GUARD_SQL);
      }
    } catch (err) {
      this.linkAfter = undefined;
      const failure = err instanceof StoreWriteError ? err : new StoreWriteError(err);
      for (const item of group) item.reject(failure);
      return;
    }
    this.linkAfter = undefined;
    await this.commitLocked(group);
  }

  private async commitLocked(group: QueuedAppend[]): Promise<void> {
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
            head = headAfter(stored, head);
            outcomes.push({ stored });
          } catch (error) {
            if (!item.within || error instanceof StoreWriteError) throw error;
            outcomes.push({ error });
          }
        }
        await tx.run(MOVE_HEAD_SQL, [head.seq, head.hash, head.ts]);
        return head;
      }).then((head) => {
        this.linkAfter = head;
      });
    } catch (err) {
      this.linkAfter = undefined;
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
    const head = await tx.get<ChainHead>(`${HEAD_GUARD_SQL}${tx.dialect.lockForUpdate}`);
    if (!head) throw headMissing();
    return head;
  }

  /** Places entries after `head`: seq + 1 each, ts never below the head's, hash-linked. */
  private link(entries: readonly PendingEntry[], head: ChainHead): StoredEntry[] {
    const ts = Math.max(this.now(), head.ts);
    let prevHash = head.hash;
    let seq = head.seq;
    return entries.map((pending) => {
      seq += 1;
      // One object per entry: the hash covers the fields it names, not prev_hash/hash.
      const stored = { ...pending, seq, ts, prev_hash: prevHash, hash: '' };
      stored.hash = chainHash(prevHash, stored);
      prevHash = stored.hash;
      return stored;
    });
  }

  private async insert(tx: SqlExecutor, rows: readonly StoredEntry[]): Promise<void> {
    for (const [sql, params] of this.insertStatements(rows)) await tx.run(sql, params);
  }

  private insertStatements(rows: readonly StoredEntry[]): Array<[string, SqlParams]> {
    return this.db.dialect.insertRows('audit_entries', ENTRY_COLUMN_TYPES, rows.map(entryToParams));
  }
}

import type { ChainAnchor } from '../chain/chain-verifier.js';
import type { SqlDatabase, SqlExecutor } from '../store/sql-database.js';
import type { PendingEntry, StoredEntry } from './audit-entry.js';
import type { EntryTuple } from '../chain/entry-tuple.js';
import { tupleToEntry } from '../chain/entry-tuple.js';
import type { AuditFilter, AuditPage, AuditPageResult, AuditStore, ChainHead, ChainRead, ChainRowSource, ChainState, WithinAppend } from './audit.store.js';
import type { AuditSqlOptions } from './audit-filter-sql.js';
import { countStatement, countsBySeqRange, filterToSql, pageStatement } from './audit-filter-sql.js';
import { ChainWriter } from './chain-writer.js';
import type { EntryRow } from './entry-row.js';
import { ENTRY_SELECT, rowToEntry } from './entry-row.js';

/** The chain's rows over a seq range, in array mode (`readChain`, and verify's range workers). */
const CHAIN_RANGE_SQL = `SELECT ${ENTRY_SELECT} FROM audit_entries WHERE seq > ? AND seq <= ? ORDER BY seq ASC`;

/** Rows per streamed batch: small enough that a batch is garbage before the next collection. */
const ITERATE_BATCH = 512;

/**
 * `AuditStore` over any `SqlDatabase`. The SQL is portable; what differs between SQLite and
 * PostgreSQL (search, row locks) comes from the dialect.
 */
export class SqlAuditStore implements AuditStore {
  private readonly writer: ChainWriter;
  private readonly sqlOptions: AuditSqlOptions;

  constructor(
    private readonly db: SqlDatabase,
    now: () => number,
  ) {
    this.writer = new ChainWriter(db, now);
    this.sqlOptions = { dialect: db.dialect, timePartitioned: db.partitions !== undefined };
  }

  /** Registers work that commits with every batch of inserted entries (one hook). */
  onInsert(hook: (tx: SqlExecutor, stored: readonly StoredEntry[]) => Promise<void>): void {
    this.writer.afterInsert = hook;
  }

  /** Registers a callback told each group commit's size. */
  onGroupCommit(callback: (entries: number) => void): void {
    this.writer.onGroupCommitted = callback;
  }

  append(entries: readonly PendingEntry[], within?: WithinAppend): Promise<StoredEntry[]> {
    if (entries.length === 0 && !within) return Promise.resolve([]);
    return this.writer.append(entries, within);
  }

  async page(filter: AuditFilter, page: AuditPage): Promise<AuditPageResult> {
    const { sql, params } = pageStatement(filter, page, this.sqlOptions);
    const rows = await this.db.all<EntryRow>(sql, params);
    if (page.order === 'newest') {
      const more = rows.length > page.limit;
      const items = rows.slice(0, page.limit).map(rowToEntry);
      return { items, nextSeq: more ? items[items.length - 1]!.seq : null };
    }
    const items = rows.map(rowToEntry);
    return { items, nextSeq: items.length > 0 ? items[items.length - 1]!.seq : page.afterSeq };
  }

  async count(filter: AuditFilter, cap: number): Promise<{ count: number; capped: boolean }> {
    const { sql, params } = countStatement(filter, cap, this.sqlOptions);
    const n = Math.max(0, Number((await this.db.get<{ n: number | null }>(sql, params))?.n ?? 0));
    if (countsBySeqRange(filter)) return { count: n, capped: false };
    return { count: Math.min(n, cap), capped: n > cap };
  }

  async getBySeq(seq: number): Promise<StoredEntry | undefined> {
    const row = await this.db.get<EntryRow>(`SELECT ${ENTRY_SELECT} FROM audit_entries WHERE seq = ?`, [seq]);
    return row ? rowToEntry(row) : undefined;
  }

  async getById(id: string): Promise<StoredEntry | undefined> {
    const row = await this.db.get<EntryRow>(`SELECT ${ENTRY_SELECT} FROM audit_entries WHERE id = ?`, [id]);
    return row ? rowToEntry(row) : undefined;
  }

  /**
   * Matching entries in ascending seq, streamed from one snapshot (a read transaction on a
   * connection of its own) in array mode, `ITERATE_BATCH` rows at a time; on PostgreSQL the
   * next batch is read while the current one is consumed.
   */
  async *iterate(filter: AuditFilter, range: { fromSeq?: number; toSeq?: number } = {}): AsyncIterable<StoredEntry> {
    const { where, params } = filterToSql(filter, this.db.dialect);
    const snap = await this.db.snapshot();
    try {
      const rows = snap.stream(
        `SELECT ${ENTRY_SELECT} FROM audit_entries WHERE ${where} AND seq >= ? AND seq <= ? ORDER BY seq ASC`,
        [...params, range.fromSeq ?? 1, range.toSeq ?? Number.MAX_SAFE_INTEGER],
        ITERATE_BATCH,
      );
      for await (const batch of rows) for (const row of batch) yield tupleToEntry(row as EntryTuple);
    } finally {
      await snap.close();
    }
  }

  async readChain(): Promise<ChainRead> {
    const snap = await this.db.snapshot();
    try {
      const state = await readChainState(snap);
      let used = false;
      const read: ChainRead = {
        state,
        rows: (range, batchSize) => {
          if (used) throw new Error('a chain read streams its rows once');
          used = true;
          return snap.stream(CHAIN_RANGE_SQL, [range.afterSeq, range.toSeq], batchSize) as AsyncIterable<EntryTuple[]>;
        },
        close: () => snap.close(),
      };
      const share = snap.share?.bind(snap);
      if (share === undefined) return read;
      return { ...read, share: async () => ({ reader: await share(), rangeSql: CHAIN_RANGE_SQL }) };
    } catch (err) {
      await snap.close();
      throw err;
    }
  }

  chainRowFile(): ChainRowSource | null {
    return this.db.file === undefined ? null : { reader: { kind: 'sqlite', path: this.db.file }, rangeSql: CHAIN_RANGE_SQL };
  }

  async head(): Promise<ChainHead> {
    const row = await this.db.get<ChainHead>('SELECT seq, hash, ts FROM audit_chain_head WHERE id = 1');
    if (!row) throw new Error('audit_chain_head is missing: the database was not migrated');
    return row;
  }

  async purgeBatch(cutoff: number, batch: number): Promise<{ removed: number; anchor: ChainAnchor } | null> {
    // Whole partitions first, where the backend has them; then the remaining rows.
    const dropped = await this.db.partitions?.dropOldest(cutoff);
    if (dropped) return dropped;
    return this.db.transaction(async (tx) => {
      // ts never decreases along seq, so the entries before the cutoff are a prefix of the chain.
      const last =
        (await tx.get<ChainAnchor>('SELECT seq, hash FROM audit_entries WHERE ts < ? ORDER BY seq ASC LIMIT 1 OFFSET ?', [cutoff, batch - 1])) ??
        (await tx.get<ChainAnchor>('SELECT seq, hash FROM audit_entries WHERE ts < ? ORDER BY seq DESC LIMIT 1', [cutoff]));
      if (!last) return null;
      const removed = await tx.run('DELETE FROM audit_entries WHERE seq <= ?', [last.seq]);
      await tx.run('UPDATE audit_chain_head SET anchor_seq = ?, anchor_hash = ? WHERE id = 1', [last.seq, last.hash]);
      return { removed, anchor: { seq: last.seq, hash: last.hash } };
    });
  }

  async countBefore(cutoff: number): Promise<number> {
    return Number((await this.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM audit_entries WHERE ts < ?', [cutoff]))?.n ?? 0);
  }

  async chainState(): Promise<ChainState> {
    return readChainState(this.db);
  }
}

/** One statement, so one snapshot: the head and the stored rows are read together. */
async function readChainState(db: Pick<SqlExecutor, 'all'>): Promise<ChainState> {
  const [row] = await db.all<{ seq: number; hash: string; ts: number; anchor_seq: number; anchor_hash: string; max_seq: number | null }>(
    'SELECT seq, hash, ts, anchor_seq, anchor_hash, (SELECT MAX(seq) FROM audit_entries) AS max_seq FROM audit_chain_head WHERE id = 1',
  );
  if (!row) throw new Error('audit_chain_head is missing: the database was not migrated');
  return {
    head: { seq: row.seq, hash: row.hash, ts: row.ts },
    anchor: { seq: row.anchor_seq, hash: row.anchor_hash },
    maxStoredSeq: row.max_seq,
  };
}

import type { Severity } from '../catalog/event-definitions.js';
import type { ChainAnchor } from '../chain/chain-verifier.js';
import type { EntryTuple } from '../chain/entry-tuple.js';
import type { RangeReader } from '../chain/range-pool.js';
import type { SqlExecutor } from '../store/sql-database.js';
import type { ActorType, PendingEntry, StoredEntry } from './audit-entry.js';

/** Which entries a query, count or export covers. Every field narrows; all must match. */
export interface AuditFilter {
  /** Recorded at or after (ms, UTC). */
  readonly start?: number;
  /** Recorded at or before (ms, UTC). */
  readonly end?: number;
  /** Exact actions (patterns are expanded against the catalog before they get here). */
  readonly actions?: readonly string[];
  /** Actor id or name, exactly. */
  readonly actor?: string;
  readonly actorType?: ActorType;
  readonly severities?: readonly Severity[];
  /** Resource type, id or name, exactly. */
  readonly resource?: string;
  /** Search words (letters and digits only), each matched as a prefix; all must match. */
  readonly searchTokens?: readonly string[];
}

export type AuditPage =
  | { readonly order: 'newest'; readonly limit: number; readonly beforeSeq?: number }
  | { readonly order: 'oldest'; readonly limit: number; readonly afterSeq: number };

export interface AuditPageResult {
  readonly items: StoredEntry[];
  /** Seq to continue from, or null when a newest-first walk has reached the end. */
  readonly nextSeq: number | null;
}

export interface ChainHead extends ChainAnchor {
  readonly ts: number;
}

/** Work that must commit in the same transaction as the entries it records. */
export type WithinAppend = (tx: SqlExecutor) => Promise<void>;

/**
 * The append-only, hash-chained audit log.
 *
 * Invariants: `seq` is gap-free and increases by one per entry; `ts` never decreases with
 * `seq`; every entry's `prev_hash` is the previous entry's `hash`. `append()` resolves only
 * after its entries are durably committed, and either stores all of its entries (and the
 * work of `within`) or none of them.
 */
export interface AuditStore {
  append(entries: readonly PendingEntry[], within?: WithinAppend): Promise<StoredEntry[]>;
  page(filter: AuditFilter, page: AuditPage): Promise<AuditPageResult>;
  /**
   * Counts matching entries. With no filter or only a time window the count is exact whatever
   * its size (`capped` false): it is the length of a seq range, read without walking entries.
   * Otherwise counting stops at `cap` (`capped` says whether there are more).
   */
  count(filter: AuditFilter, cap: number): Promise<{ count: number; capped: boolean }>;
  getById(id: string): Promise<StoredEntry | undefined>;
  /** Matching entries in ascending seq, read in bounded batches, up to `toSeq`. */
  iterate(filter: AuditFilter, range?: { fromSeq?: number; toSeq?: number }): AsyncIterable<StoredEntry>;
  head(): Promise<ChainHead>;
  /**
   * Opens one consistent read of the chain: its state and its stored rows, from the same
   * snapshot, read without the write lock. The caller must `close()` it.
   */
  readChain(): Promise<ChainRead>;
  /**
   * Where other threads can read the chain's rows on connections of their own: a SQLite
   * database file and the statement for a seq range. Null where there is none (PostgreSQL,
   * an in-memory database; PostgreSQL shares a `readChain` snapshot instead: `ChainRead.share`).
   * Each such read is its own transaction, so it may see a later state than a `readChain`
   * opened before it.
   */
  chainRowFile(): ChainRowSource | null;
  /**
   * One consistent reading of the chain's state: the head the writer recorded, the anchor
   * verification starts from (genesis, or the checkpoint left by the last purge), and the
   * highest seq actually stored (a row beyond the head was not written by the writer).
   */
  chainState(): Promise<ChainState>;
  /**
   * Removes the oldest entries recorded before `cutoff` (at most `batch`) in one
   * transaction that also moves the anchor to the last removed entry, so the remaining
   * chain verifies from there. Returns null when nothing is older than the cutoff.
   */
  purgeBatch(cutoff: number, batch: number): Promise<{ removed: number; anchor: ChainAnchor } | null>;
  /** How many entries were recorded before `cutoff`. */
  countBefore(cutoff: number): Promise<number>;
}

/** The chain as of one moment (see `AuditStore.readChain`). */
export interface ChainRead {
  readonly state: ChainState;
  /** Stored rows with `afterSeq < seq <= toSeq` in ascending seq, in array mode, in batches of up to `batchSize`. Once per read. */
  rows(range: { readonly afterSeq: number; readonly toSeq: number }, batchSize: number): AsyncIterable<EntryTuple[]>;
  /**
   * Where other threads can read this same snapshot's rows on connections of their own
   * (PostgreSQL: the snapshot exported, for workers to import), valid until `close`; call it
   * before `rows`. Absent where the backend cannot share a snapshot.
   */
  share?(): Promise<ChainRowSource>;
  close(): Promise<void>;
}

/** See `AuditStore.chainRowFile` and `ChainRead.share`. */
export interface ChainRowSource {
  /** A SQLite database file, or a PostgreSQL snapshot to import. */
  readonly reader: RangeReader;
  /** The rows with `afterSeq < seq <= toSeq` (bound in that order), in ascending seq, every column in `EntryTuple` order. */
  readonly rangeSql: string;
}

export interface ChainState {
  readonly head: ChainHead;
  readonly anchor: ChainAnchor;
  readonly maxStoredSeq: number | null;
}

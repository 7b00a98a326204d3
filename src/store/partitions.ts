import type { ChainAnchor } from '../chain/chain-verifier.js';

/**
 * Time partitions of the audit table, where the backend has them (PostgreSQL). Retention
 * drops whole partitions that lie entirely before the cutoff instead of deleting rows.
 */
export interface PartitionManager {
  /** Creates the partitions for the current month and the next ones ahead. */
  ensure(now: number): Promise<{ created: string[] }>;
  /**
   * Drops the oldest partition lying wholly before `cutoff`, if its entries are the oldest
   * stored (a prefix of the chain), and moves the chain anchor to its last entry — in one
   * transaction. Null when there is none to drop.
   */
  dropOldest(cutoff: number): Promise<{ removed: number; anchor: ChainAnchor; partition: string } | null>;
}

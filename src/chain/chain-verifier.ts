import type { StoredEntry } from '../audit/audit-entry.js';
import { chainHash } from './entry-hash.js';
import type { ChainLink } from './entry-tuple.js';

/** Where verification starts: genesis, or the checkpoint left by a retention purge. */
export interface ChainAnchor {
  readonly seq: number;
  readonly hash: string;
}

export interface ChainVerification {
  readonly ok: boolean;
  readonly checked: number;
  readonly from_seq: number | null;
  readonly to_seq: number | null;
  readonly head_hash: string;
  readonly first_bad_seq: number | null;
  readonly reason: string | null;
}

/**
 * Re-walks stored entries in ascending seq from an anchor. Any edit to any hashed column,
 * a deleted, inserted or reordered row, or a changed link is reported at the first entry
 * that no longer fits.
 */
export class ChainVerifier {
  private prevSeq: number;
  private prevHash: string;
  private checked = 0;
  private firstSeq: number | null = null;
  private failure: { seq: number; reason: string } | null = null;

  constructor(private readonly anchor: ChainAnchor) {
    this.prevSeq = anchor.seq;
    this.prevHash = anchor.hash;
  }

  /** Feeds the next entry; returns false once the chain is broken (stop feeding). */
  push(e: StoredEntry): boolean {
    return this.check(e.seq, e.prev_hash, e.ts, e.occurred_at, e.hash, () => chainHash(this.prevHash, e));
  }

  /**
   * Feeds the next entry as its link fields, with its hash already computed from its own
   * `prev_hash` (`digests` at `at`, 32 bytes; unread unless the earlier checks pass, and
   * then `prev_hash` is the previous entry's hash, so it is the hash `push` computes).
   * Same checks in the same order as `push`.
   */
  pushLink(l: ChainLink, digests: Buffer, at: number): boolean {
    return this.check(l[0], l[1], l[2], l[3], l[4], () => digests.toString('hex', at, at + 32));
  }

  private check(seq: number, prevHash: string, ts: number, occurredAt: number | null, hash: string, computed: () => string): boolean {
    if (this.failure) return false;
    this.firstSeq ??= seq;
    const expectedSeq = this.prevSeq + 1;
    if (seq !== expectedSeq) {
      const reason = seq > expectedSeq ? `seq ${expectedSeq} is missing (next stored is ${seq})` : `seq ${seq} is out of order`;
      this.failure = { seq: Math.min(seq, expectedSeq), reason };
      return false;
    }
    if (prevHash !== this.prevHash) {
      this.failure = { seq, reason: 'prev_hash does not match the hash of the previous entry' };
      return false;
    }
    if (!isTime(ts) || (occurredAt !== null && !isTime(occurredAt))) {
      this.failure = { seq, reason: 'entry holds a time that is not a whole millisecond in the Date range' };
      return false;
    }
    if (computed() !== hash) {
      this.failure = { seq, reason: 'stored hash does not match the entry contents' };
      return false;
    }
    this.prevSeq = seq;
    this.prevHash = hash;
    this.checked += 1;
    return true;
  }

  /**
   * Ends the walk. `head` is the chain head the store recorded at its last append; a head
   * beyond the last entry seen means the newest entries were removed.
   */
  finish(head?: ChainAnchor): ChainVerification {
    if (!this.failure && head && (head.seq !== this.prevSeq || head.hash !== this.prevHash)) {
      this.failure = head.seq > this.prevSeq
        ? { seq: this.prevSeq + 1, reason: `entries after seq ${this.prevSeq} are missing (chain head is ${head.seq})` }
        : head.seq < this.prevSeq
          ? { seq: head.seq + 1, reason: `entries after the chain head (${head.seq}) are stored` }
          : { seq: head.seq, reason: 'chain head does not match the last entry' };
    }
    return {
      ok: this.failure === null,
      checked: this.checked,
      from_seq: this.firstSeq,
      to_seq: this.checked > 0 ? this.prevSeq : null,
      head_hash: this.prevHash,
      first_bad_seq: this.failure?.seq ?? null,
      reason: this.failure?.reason ?? null,
    };
  }
}

/** A stored time the canonical form can represent exactly (an edit to REAL or out-of-range fails here). */
export function isTime(ms: number): boolean {
  return Number.isSafeInteger(ms) && Math.abs(ms) <= 8.64e15;
}

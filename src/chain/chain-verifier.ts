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

/** The reasons a break is reported with that do not depend on where it is (the range workers' program writes the same). */
export const PREV_HASH_MISMATCH = 'prev_hash does not match the hash of the previous entry';
export const BAD_TIME = 'entry holds a time that is not a whole millisecond in the Date range';
export const HASH_MISMATCH = 'stored hash does not match the entry contents';

/**
 * Consecutive stored entries checked somewhere else (a range worker) with the same checks as
 * `ChainVerifier.push`, except the first entry's seq and `prev_hash`, which need the entry
 * before it: that is what `pushRun` adds.
 */
export interface CheckedRun {
  /** The run's first entry: its seq and `prev_hash`. */
  readonly first: readonly [seq: number, prevHash: string];
  /** How many entries passed every check, from the first on (the first one's link taken as fitting). */
  readonly passed: number;
  /** The last of them (seq, hash); null when none passed. */
  readonly last: ChainAnchor | null;
  /** Where the run broke, after `passed` entries; null when every entry passed. */
  readonly failure: { readonly seq: number; readonly reason: string } | null;
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

  /**
   * Feeds a run of entries checked elsewhere: the first one's seq and `prev_hash` are checked
   * here (as `push` would, first), then the run's own outcome is taken over. The outcome is
   * the one `push` would reach over the same entries.
   */
  pushRun(run: CheckedRun): boolean {
    if (this.failure) return false;
    this.firstSeq ??= run.first[0];
    if (!this.fits(run.first[0], run.first[1])) return false;
    if (run.last) {
      this.prevSeq = run.last.seq;
      this.prevHash = run.last.hash;
    }
    this.checked += run.passed;
    if (run.failure) {
      this.failure = { seq: run.failure.seq, reason: run.failure.reason };
      return false;
    }
    return true;
  }

  /** How many entries were accepted so far. */
  get count(): number {
    return this.checked;
  }

  /** The link checks: the entry follows the last one accepted, in seq and in hash. */
  private fits(seq: number, prevHash: string): boolean {
    const expectedSeq = this.prevSeq + 1;
    if (seq !== expectedSeq) {
      const reason = seq > expectedSeq ? `seq ${expectedSeq} is missing (next stored is ${seq})` : `seq ${seq} is out of order`;
      this.failure = { seq: Math.min(seq, expectedSeq), reason };
      return false;
    }
    if (prevHash !== this.prevHash) {
      this.failure = { seq, reason: PREV_HASH_MISMATCH };
      return false;
    }
    return true;
  }

  private check(seq: number, prevHash: string, ts: number, occurredAt: number | null, hash: string, computed: () => string): boolean {
    if (this.failure) return false;
    this.firstSeq ??= seq;
    if (!this.fits(seq, prevHash)) return false;
    if (!isTime(ts) || (occurredAt !== null && !isTime(occurredAt))) {
      this.failure = { seq, reason: BAD_TIME };
      return false;
    }
    if (computed() !== hash) {
      this.failure = { seq, reason: HASH_MISMATCH };
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

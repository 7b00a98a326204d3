import type { StoredEntry } from './audit-entry.js';
import type { AuditRecorder } from './audit-recorder.js';
import type { AuditStore } from './audit.store.js';

const FILL_BATCH = 500;
export const DEFAULT_FEED_POLL_MS = 1_000;

/**
 * Every committed entry, once each and in seq order, for the live tail. Entries committed by
 * this process arrive at once (the recorder's commit listener); entries committed by another
 * process — another Trailmark node on the same PostgreSQL, a CLI command on the same SQLite
 * file — are read from the store: when a local commit skips seqs (the gap is someone else's
 * entries), and by a poll while anyone listens. The chain has no gaps, so "the seq after the
 * last one delivered" is all the state the feed needs.
 */
export class CommitFeed {
  private readonly listeners = new Set<(entries: readonly StoredEntry[]) => void>();
  /** Highest seq delivered; undefined until the feed starts. */
  private delivered: number | undefined;
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private stopListening: (() => void) | undefined;

  constructor(
    private readonly store: AuditStore,
    private readonly recorder: AuditRecorder,
    private readonly pollMs = DEFAULT_FEED_POLL_MS,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {}

  /** Listens from the current head on; returns the unsubscribe function. */
  subscribe(listener: (entries: readonly StoredEntry[]) => void): () => void {
    this.listeners.add(listener);
    if (this.listeners.size === 1) this.start();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    };
  }

  /** Stops polling (server shutdown). */
  close(): void {
    this.listeners.clear();
    this.stop();
  }

  private start(): void {
    this.stopListening = this.recorder.onCommit((entries) => {
      if (entries.length > 0) this.serially(() => this.local(entries));
    });
    this.serially(async () => {
      this.delivered = (await this.store.head()).seq;
    });
    this.timer = setInterval(() => this.serially(() => this.fill(Number.MAX_SAFE_INTEGER)), this.pollMs);
    this.timer.unref();
  }

  private stop(): void {
    this.stopListening?.();
    this.stopListening = undefined;
    clearInterval(this.timer);
    this.timer = undefined;
    this.delivered = undefined;
  }

  /** Runs feed work one piece at a time, so entries go out in seq order. */
  private serially(work: () => Promise<void>): void {
    this.chain = this.chain.then(work).catch((err: unknown) => this.onError(err));
  }

  private async local(entries: readonly StoredEntry[]): Promise<void> {
    if (this.delivered === undefined) return;
    const first = entries[0]!.seq;
    if (first > this.delivered + 1) await this.fill(first - 1);
    this.emit(entries.filter((e) => e.seq > this.delivered!));
  }

  /** Reads and delivers the entries after the last delivered one, up to `upTo`. */
  private async fill(upTo: number): Promise<void> {
    while (this.delivered !== undefined && this.delivered < upTo && this.listeners.size > 0) {
      const page = await this.store.page({}, { order: 'oldest', limit: FILL_BATCH, afterSeq: this.delivered });
      const items = page.items.filter((e) => e.seq <= upTo);
      this.emit(items);
      if (page.items.length < FILL_BATCH || items.length < page.items.length) return;
    }
  }

  private emit(entries: readonly StoredEntry[]): void {
    if (entries.length === 0 || this.delivered === undefined) return;
    this.delivered = entries[entries.length - 1]!.seq;
    for (const listener of this.listeners) listener(entries);
  }
}

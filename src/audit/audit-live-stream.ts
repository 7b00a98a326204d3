import { PassThrough } from 'node:stream';
import type { AuditEntryJson } from './audit-entry.js';

export interface LiveStreamOptions {
  /** A comment line this often keeps proxies and the browser from timing the stream out. */
  readonly heartbeatMs: number;
  /** Bytes a connection may hold unsent; a client further behind is told to reset. */
  readonly maxBufferedBytes: number;
  /** Entries held while the connection is still catching up. */
  readonly maxPending: number;
  /** How long the browser waits before reconnecting (SSE `retry:`). */
  readonly retryMs: number;
}

export const DEFAULT_LIVE_STREAM_OPTIONS: LiveStreamOptions = {
  heartbeatMs: 15_000,
  maxBufferedBytes: 1024 * 1024,
  maxPending: 5_000,
  retryMs: 2_000,
};

export type ResetReason = 'slow_client' | 'too_far_behind' | 'shutting_down';

/** One server-sent event; `data` is JSON on one line (JSON.stringify never emits a newline). */
export function sseEvent(event: string, data: unknown, id?: number): string {
  return `${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * One live-tail connection: an SSE body with a bounded buffer. Entries offered while the
 * connection catches up are held (at most `maxPending`), then sent in seq order without
 * repeating what the catch-up sent. A client that cannot keep up gets a `reset` event and the
 * stream ends instead of the server buffering without bound; the browser then reloads the
 * page and reconnects. `close()` is idempotent and runs the cleanup callbacks once.
 */
export class LiveStream {
  readonly body = new PassThrough();
  private pending: AuditEntryJson[] | null = [];
  /** Entries at or below this seq were already replayed: not sent again. */
  private floor = 0;
  private closed = false;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly cleanups: Array<() => void> = [];

  constructor(private readonly options: LiveStreamOptions = DEFAULT_LIVE_STREAM_OPTIONS) {
    this.write(`retry: ${options.retryMs}\n\n`);
    const heartbeat = setInterval(() => this.write(': keep-alive\n\n'), options.heartbeatMs);
    heartbeat.unref();
    this.timers.push(heartbeat);
    this.body.on('close', () => this.close());
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Ends the stream after `ms` (the browser reconnects and is authenticated again). */
  endAfter(ms: number): void {
    const timer = setTimeout(() => this.close(), ms);
    timer.unref();
    this.timers.push(timer);
  }

  onClose(cleanup: () => void): void {
    if (this.closed) cleanup();
    else this.cleanups.push(cleanup);
  }

  /** New committed entries that match the connection's filter. */
  offer(entries: readonly AuditEntryJson[]): void {
    if (this.closed || entries.length === 0) return;
    if (this.pending) {
      if (this.pending.length + entries.length > this.options.maxPending) return this.reset('too_far_behind');
      this.pending.push(...entries);
      return;
    }
    for (const e of entries) this.sendEntry(e);
  }

  /**
   * A replayed entry, sent during the catch-up (before `ready`). Resolves once the client
   * has read enough for the next one, so a large replay never piles up in memory.
   */
  async replay(entry: AuditEntryJson): Promise<void> {
    if (!this.pending) return;
    this.sendEntry(entry);
    if (this.closed || !this.body.writableNeedDrain) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        this.body.off('drain', done);
        this.body.off('close', done);
        resolve();
      };
      this.body.on('drain', done);
      this.body.on('close', done);
    });
  }

  /**
   * Ends the catch-up: says `ready` (its id is the seq the client has seen up to, so a
   * reconnect resumes from there), then sends what arrived meanwhile and was not replayed.
   */
  ready(upToSeq: number, dedupe: boolean): void {
    if (this.closed || !this.pending) return;
    const held = this.pending;
    this.pending = null;
    this.floor = dedupe ? upToSeq : 0;
    this.write(sseEvent('ready', { seq: upToSeq }, upToSeq));
    for (const e of held.sort((a, b) => a.seq - b.seq)) this.sendEntry(e);
  }

  reset(reason: ResetReason): void {
    if (this.closed) return;
    this.body.write(sseEvent('reset', { reason }));
    this.close();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    if (!this.body.writableEnded) this.body.end();
    for (const cleanup of this.cleanups.splice(0)) {
      try {
        cleanup();
      } catch {
        // A failing cleanup must not keep the others from running.
      }
    }
  }

  private sendEntry(entry: AuditEntryJson): void {
    if (entry.seq <= this.floor) return;
    this.write(sseEvent('entry', entry, entry.seq));
  }

  private write(chunk: string): void {
    if (this.closed) return;
    if (this.body.writableLength + this.body.readableLength > this.options.maxBufferedBytes) return this.reset('slow_client');
    this.body.write(chunk);
  }
}

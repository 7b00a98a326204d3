import { describe, expect, it } from 'vitest';
import type { AuditEntryJson } from './audit-entry.js';
import { LiveStream, sseEvent } from './audit-live-stream.js';

const entry = (seq: number, pad = 0): AuditEntryJson => ({
  id: `id-${seq}`, seq, ts: '2026-01-01T00:00:00.000Z', occurred_at: null, action: 'sync.completed', category: 'sync', severity: 'info',
  actor: { type: 'system', id: 'system', name: 'system' }, resource: { type: 'sync_job', id: 's', name: null },
  description: 'x'.repeat(pad), details: {}, source: { ip: null, user_agent: null, token_id: null }, request_id: null, prev_hash: 'a', hash: 'b',
});
const OPTIONS = { heartbeatMs: 20, maxBufferedBytes: 64 * 1024, maxPending: 10, retryMs: 1000 };
const text = (s: LiveStream): string => {
  const chunks: Buffer[] = [];
  let chunk: Buffer | null;
  while ((chunk = s.body.read() as Buffer | null) !== null) chunks.push(chunk);
  return Buffer.concat(chunks).toString();
};
const seqsOf = (body: string): number[] => [...body.matchAll(/^event: entry\ndata: (.*)$/gm)].map((m) => (JSON.parse(m[1]!) as { seq: number }).seq);

describe('LiveStream', () => {
  it('frames events with id, event name and one-line JSON data', () => {
    expect(sseEvent('entry', { a: 'line\nbreak' }, 7)).toBe('id: 7\nevent: entry\ndata: {"a":"line\\nbreak"}\n\n');
  });

  it('holds live entries during the catch-up and does not repeat replayed ones', () => {
    const s = new LiveStream(OPTIONS);
    s.offer([entry(5), entry(6)]);
    void s.replay(entry(4));
    void s.replay(entry(5));
    s.ready(5, true);
    s.offer([entry(7)]);
    const body = text(s);
    expect(body.startsWith('retry: 1000\n\n')).toBe(true);
    expect(seqsOf(body)).toEqual([4, 5, 6, 7]);
    expect(body).toContain('id: 5\nevent: ready\ndata: {"seq":5}');
    s.close();
  });

  it('sends every held entry when there was no replay', () => {
    const s = new LiveStream(OPTIONS);
    s.offer([entry(3)]);
    s.ready(9, false);
    s.offer([entry(10)]);
    expect(seqsOf(text(s))).toEqual([3, 10]);
    s.close();
  });

  it('writes a heartbeat comment while idle', async () => {
    const s = new LiveStream(OPTIONS);
    s.ready(0, false);
    await new Promise((r) => setTimeout(r, 70));
    expect(text(s)).toContain(': keep-alive\n\n');
    s.close();
  });

  it('resets a client that does not read instead of buffering without bound', () => {
    const s = new LiveStream(OPTIONS);
    let cleaned = 0;
    s.onClose(() => (cleaned += 1));
    s.ready(0, false);
    for (let seq = 1; seq <= 200 && !s.isClosed; seq++) s.offer([entry(seq, 2000)]);
    expect(s.isClosed).toBe(true);
    expect(s.body.readableLength + s.body.writableLength).toBeLessThan(OPTIONS.maxBufferedBytes + 8 * 1024);
    expect(text(s)).toContain('event: reset\ndata: {"reason":"slow_client"}');
    s.close();
    expect(cleaned).toBe(1);
  });

  it('resets when too much arrives during the catch-up', () => {
    const s = new LiveStream(OPTIONS);
    s.offer(Array.from({ length: 11 }, (_, i) => entry(i + 1)));
    expect(s.isClosed).toBe(true);
    expect(text(s)).toContain('"reason":"too_far_behind"');
  });

  it('ends after its lifetime and runs cleanups once', async () => {
    const s = new LiveStream(OPTIONS);
    let cleaned = 0;
    s.onClose(() => (cleaned += 1));
    s.endAfter(30);
    await new Promise((r) => setTimeout(r, 60));
    expect(s.isClosed).toBe(true);
    expect(s.body.writableEnded).toBe(true);
    s.close();
    expect(cleaned).toBe(1);
  });
});

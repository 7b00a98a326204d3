import { request } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEvent } from '../../test/support/audit-fixtures.js';
import { ANONYMOUS, buildTestApp } from '../../test/support/test-app.js';
import type { Caller, TestApp } from '../../test/support/test-app.js';

interface SseEvent { event: string; id?: string; data: unknown }

/** An SSE client on its own connection (node:http, no pooling) that collects events. */
async function connect(base: string, path: string, caller: Caller, headers: Record<string, string> = {}) {
  const events: SseEvent[] = [];
  let raw = '';
  let ended = false;
  const req = request(`${base}${path}`, { agent: false, headers: { ...caller.headers, ...headers } });
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    req.once('response', resolve);
    req.once('error', reject);
    req.end();
  });
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => {
    raw += chunk;
    let cut: number;
    while ((cut = raw.indexOf('\n\n')) >= 0) {
      const block = raw.slice(0, cut);
      raw = raw.slice(cut + 2);
      const lines = block.split('\n').filter((l) => !l.startsWith(':') && l.includes(':'));
      const fields = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]));
      if (fields.event) events.push({ event: fields.event, id: fields.id, data: JSON.parse(fields.data ?? 'null') });
    }
  });
  const finished = new Promise<void>((resolve) => res.once('close', () => resolve()));
  void finished.then(() => (ended = true));
  const waitFor = async (pred: () => boolean, ms = 5_000): Promise<void> => {
    const until = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > until) throw new Error(`timed out; events: ${JSON.stringify(events.map((e) => [e.event, e.id]))}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  return {
    status: res.statusCode,
    headers: res.headers,
    events,
    waitFor,
    isEnded: () => ended,
    close: async () => {
      req.destroy();
      await finished;
    },
  };
}

const listeners = (t: TestApp): number => (Reflect.get(t.core.recorder, 'listeners') as Set<unknown>).size;
const entrySeqs = (events: SseEvent[]): number[] => events.filter((e) => e.event === 'entry').map((e) => (e.data as { seq: number }).seq);

describe('GET /api/audit/stream', () => {
  let t: TestApp;
  let base: string;

  beforeAll(async () => {
    t = await buildTestApp('sqlite');
    base = await t.app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await t.close();
  });

  it('refuses anonymous callers, write-only tokens and bad filters before streaming', async () => {
    expect((await t.request(ANONYMOUS, 'GET', '/api/audit/stream')).statusCode).toBe(401);
    expect((await t.request(await t.token(['audit:write']), 'GET', '/api/audit/stream')).statusCode).toBe(403);
    const bad = await t.request(t.admin, 'GET', '/api/audit/stream?action=nope.*');
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ error: { code: 'validation_failed' } });
  });

  it('streams the matching entries as they are committed, each with its seq as id', async () => {
    const reader = await t.token(['audit:read']);
    const c = await connect(base, '/api/audit/stream?action=rotation.*&severity=error', reader);
    expect(c.status).toBe(200);
    expect(c.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(c.headers['cache-control']).toContain('no-cache');
    await c.waitFor(() => c.events.some((e) => e.event === 'ready'));
    const [, failed] = await t.core.recorder.recordBatch([buildEvent('rotation.started'), buildEvent('rotation.failed'), buildEvent('sync.failed')]);
    await c.waitFor(() => entrySeqs(c.events).length === 1);
    const got = c.events.find((e) => e.event === 'entry')!;
    expect(got.id).toBe(String(failed!.seq));
    expect(got.data).toMatchObject({ seq: failed!.seq, action: 'rotation.failed', hash: failed!.hash, prev_hash: failed!.prev_hash });
    await c.close();
  });

  it('replays what a client missed after `after` or Last-Event-ID, then goes on live without repeats', async () => {
    const [first, second, third] = await t.core.recorder.recordBatch([buildEvent('sync.started'), buildEvent('sync.started'), buildEvent('sync.started')]);
    const c = await connect(base, `/api/audit/stream?action=sync.started&after=${first!.seq}`, t.admin);
    await c.waitFor(() => c.events.some((e) => e.event === 'ready'));
    expect(entrySeqs(c.events)).toEqual([second!.seq, third!.seq]);
    expect(c.events.find((e) => e.event === 'ready')!.id).toBe(String(third!.seq));
    const fourth = await t.core.recorder.record(buildEvent('sync.started'));
    await c.waitFor(() => entrySeqs(c.events).length === 3);
    expect(entrySeqs(c.events)).toEqual([second!.seq, third!.seq, fourth.seq]);
    await c.close();

    const resumed = await connect(base, '/api/audit/stream?action=sync.started&after=0', t.admin, { 'last-event-id': String(third!.seq) });
    await resumed.waitFor(() => resumed.events.some((e) => e.event === 'ready'));
    expect(entrySeqs(resumed.events), 'Last-Event-ID wins over after').toEqual([fourth.seq]);
    await resumed.close();
  });

  it('tells a client too far behind to reload instead of replaying without bound', async () => {
    await t.core.recorder.recordBatch(Array.from({ length: 1000 }, () => buildEvent('sync.completed')));
    await t.core.recorder.recordBatch(Array.from({ length: 1001 }, () => buildEvent('sync.completed')));
    const c = await connect(base, '/api/audit/stream?action=sync.completed&after=0', t.admin);
    await c.waitFor(() => c.isEnded());
    expect(c.events.at(-1)).toMatchObject({ event: 'reset', data: { reason: 'too_far_behind' } });
    expect(c.events.some((e) => e.event === 'ready')).toBe(false);
  });

  it('ends after its lifetime and unsubscribes when a client goes away', async () => {
    const before = listeners(t);
    const short = await connect(base, '/api/audit/stream?lifetime=1', t.admin);
    const dropped = await connect(base, '/api/audit/stream', t.admin);
    await dropped.waitFor(() => dropped.events.some((e) => e.event === 'ready'));
    // Streams share one commit feed, which listens while any stream is open.
    expect(listeners(t)).toBe(before + 1);
    await dropped.close();
    await short.waitFor(() => short.isEnded(), 3_000);
    await new Promise((r) => setTimeout(r, 50));
    expect(listeners(t)).toBe(before);
  });

  it('lets the server stop while streams are open', async () => {
    const t2 = await buildTestApp('sqlite');
    const base2 = await t2.app.listen({ port: 0, host: '127.0.0.1' });
    const c = await connect(base2, '/api/audit/stream', t2.admin);
    await c.waitFor(() => c.events.some((e) => e.event === 'ready'));
    const started = Date.now();
    await t2.close();
    expect(Date.now() - started).toBeLessThan(2_000);
    await c.waitFor(() => c.isEnded());
    expect(c.events.at(-1)).toMatchObject({ event: 'reset', data: { reason: 'shutting_down' } });
  });
});

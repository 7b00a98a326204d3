import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE_DETAILS } from '../support/audit-fixtures.js';
import { ANONYMOUS, buildTestApp } from '../support/test-app.js';
import type { TestApp } from '../support/test-app.js';

const metricValue = (text: string, name: string, labels = ''): number => {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `) || (labels === '' && l.startsWith(`${name} `)));
  return line ? Number(line.split(' ').pop()) : 0;
};

describe('operations endpoints', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp('sqlite');
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers /healthz and /readyz', async () => {
    expect((await t.request(ANONYMOUS, 'GET', '/healthz')).json()).toEqual({ status: 'ok' });
    const ready = await t.request(ANONYMOUS, 'GET', '/readyz');
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({ status: 'ready', checks: { store_writable: { ok: true }, migrations: { ok: true }, outbox: { ok: true } } });
  });

  it('serves Prometheus metrics to loopback only, and its counters move with the traffic', async () => {
    const scrape = async (): Promise<string> => {
      const res = await t.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '127.0.0.1' });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toContain('text/plain');
      return res.body;
    };
    expect((await t.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '203.0.113.4' })).statusCode).toBe(403);
    const before = await scrape();
    const writer = await t.token(['audit:write']);
    const events = Array.from({ length: 7 }, () => ({ action: 'rotation.failed', resource: { type: 'secret', id: 's' }, details: SAMPLE_DETAILS['rotation.failed'] }));
    expect((await t.request(writer, 'POST', '/api/audit/events', { events })).statusCode).toBe(201);
    await t.request(t.admin, 'GET', '/api/audit?limit=5');
    await t.request(t.admin, 'GET', '/api/audit/verify');
    const after = await scrape();
    const label = 'action="rotation.failed",severity="error"';
    expect(metricValue(after, 'trailmark_entries_appended_total', label) - metricValue(before, 'trailmark_entries_appended_total', label)).toBe(7);
    expect(metricValue(after, 'trailmark_ingest_batch_size_sum') - metricValue(before, 'trailmark_ingest_batch_size_sum')).toBe(7);
    expect(metricValue(after, 'trailmark_chain_verifications_total', 'result="ok"')).toBe(1);
    expect(after).toMatch(/trailmark_http_request_duration_seconds_count\{method="GET",route="\/api\/audit",status="200"\} [1-9]/);
    expect(after).toContain('trailmark_webhook_outbox_depth 0');
    expect(after).toContain('trailmark_process_cpu_seconds_total');
    expect(metricValue(after, 'trailmark_group_commit_entries_sum')).toBeGreaterThanOrEqual(7);
  });

  it('reports a store that cannot be written as not ready, with the reason, and recovers', async () => {
    const path = (t.core.db as unknown as { path: string }).path;
    const blocker = new Database(path);
    blocker.exec('BEGIN EXCLUSIVE');
    try {
      const res = await t.request(ANONYMOUS, 'GET', '/readyz');
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ status: 'not_ready', checks: { store_writable: { ok: false, reason: expect.stringMatching(/locked|busy/i) } } });
    } finally {
      blocker.exec('ROLLBACK');
      blocker.close();
    }
    expect((await t.request(ANONYMOUS, 'GET', '/readyz')).statusCode).toBe(200);
  }, 30_000);
});

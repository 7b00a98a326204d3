import { createHmac } from 'node:crypto';
import { createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openCore } from '../../src/app.js';
import type { Core } from '../../src/app.js';
import { RETRY_WINDOW_MS } from '../../src/forwarding/delivery-dispatcher.js';
import { ManualClock } from '../../src/lib/clock.js';
import { buildEvent } from '../support/audit-fixtures.js';
import { BACKENDS, freshDatabaseUrl } from '../support/backends.js';
import type { TestDatabase } from '../support/backends.js';
import { startWebhookReceiver } from '../support/webhook-receiver.js';

const SECRET = 'webhook-test-secret-key-0123456789abcdefgh';
const RULE_SECRET = 'rule-signing-secret-0123';
const ctx = { principal: { kind: 'user' as const, userId: 'u', username: 'admin', role: 'admin' as const, sessionIdHash: 'x', csrfToken: 'y' }, ip: '127.0.0.1', userAgent: null, requestId: 'r' };

for (const backend of BACKENDS) {
  describe(`webhook forwarding through the outbox (${backend})`, () => {
    let tdb: TestDatabase;
    let core: Core;
    let clock: ManualClock;
    let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;

    beforeEach(async () => {
      tdb = await freshDatabaseUrl(backend);
      clock = new ManualClock(Date.UTC(2026, 5, 1));
      core = await openCore({ databaseUrl: tdb.url, clock, secretKey: SECRET });
      receiver = await startWebhookReceiver(2);
    });
    afterEach(async () => {
      await receiver.close();
      await core.close();
      await tdb.cleanup();
    });

    const drain = async (rounds = 12): Promise<void> => {
      for (let i = 0; i < rounds; i++) {
        await core.webhooks.deliverDue();
        clock.advance(3_600_000);
      }
    };

    it('delivers every matched event exactly once by delivery id, signed, despite failures', async () => {
      const rule = await core.alertRules.create({ name: 'rot', event_types: ['rotation.*'], min_severity: 'info', channel: { type: 'webhook', url: receiver.url, secret: RULE_SECRET } }, ctx);
      const matched = await core.recorder.recordBatch([buildEvent('rotation.started'), buildEvent('sync.started'), buildEvent('rotation.failed'), buildEvent('rotation.completed')]);
      const wanted = matched.filter((e) => e.action.startsWith('rotation.')).map((e) => e.seq);
      await drain();
      const ok = receiver.calls.filter((c) => c.status === 200);
      const bodies = ok.map((c) => JSON.parse(c.body) as { rule: { id: string }; entry: { seq: number } });
      expect(bodies.map((b) => b.entry.seq).sort((a, b) => a - b)).toEqual(wanted);
      expect(new Set(ok.map((c) => c.headers['x-trailmark-delivery'])).size).toBe(wanted.length);
      expect(receiver.calls.length).toBe(wanted.length + 2);
      // A retried delivery keeps its id.
      const failedIds = receiver.calls.filter((c) => c.status === 503).map((c) => c.headers['x-trailmark-delivery']);
      for (const id of failedIds) expect(ok.map((c) => c.headers['x-trailmark-delivery'])).toContain(id);
      for (const call of ok) {
        const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(call.headers['x-trailmark-signature']))!;
        expect(createHmac('sha256', RULE_SECRET).update(`${m[1]}.${call.body}`).digest('hex')).toBe(m[2]);
        expect(bodies[0]!.rule.id).toBe(rule.id);
      }
      const health = await core.deliveries.forRule(rule.id);
      expect(health.health).toMatchObject({ delivered: 3, pending: 0, dead: 0, consecutive_failures: 0 });
    });

    it('respects minimum severity and disabled rules, and shapes Splunk and Datadog payloads', async () => {
      await core.alertRules.create({ name: 'errors', event_types: ['*'], min_severity: 'error', channel: { type: 'webhook', url: receiver.url, format: 'splunk_hec', headers: { Authorization: 'Splunk abc' } } }, ctx);
      await core.alertRules.create({ name: 'dd', event_types: ['sync.*'], channel: { type: 'webhook', url: receiver.url, format: 'datadog', headers: { 'DD-API-KEY': 'k' } } }, ctx);
      await core.alertRules.create({ name: 'off', event_types: ['*'], enabled: false, channel: { type: 'webhook', url: receiver.url } }, ctx);
      receiver.setFailing(0);
      await core.recorder.recordBatch([buildEvent('rotation.started'), buildEvent('rotation.failed'), buildEvent('sync.completed')]);
      await drain(2);
      const splunk = receiver.calls.filter((c) => c.headers.authorization === 'Splunk abc').map((c) => JSON.parse(c.body) as { sourcetype: string; event: { entry: { action: string } }; time: number });
      expect(splunk.map((s) => s.event.entry.action)).toEqual(['rotation.failed']);
      expect(splunk[0]).toMatchObject({ sourcetype: 'trailmark:audit', time: expect.any(Number) });
      const dd = receiver.calls.filter((c) => c.headers['dd-api-key'] === 'k').map((c) => JSON.parse(c.body) as Array<{ ddsource: string; trailmark: { entry: { action: string } } }>);
      expect(dd.map((d) => d[0]!.trailmark.entry.action)).toEqual(['sync.completed']);
      expect(receiver.calls).toHaveLength(2);
    });

    it('gives up after 24 hours (dead letter) and reports the rule’s health', async () => {
      const rule = await core.alertRules.create({ name: 'down', event_types: ['sync.*'], channel: { type: 'webhook', url: receiver.url } }, ctx);
      receiver.setFailing(1_000);
      await core.recorder.record(buildEvent('sync.failed'));
      for (let i = 0; i < 60 && (await core.outbox.depth()) > 0; i++) {
        await core.webhooks.deliverDue();
        clock.advance(RETRY_WINDOW_MS / 20);
      }
      const report = await core.deliveries.forRule(rule.id);
      expect(report.health).toMatchObject({ dead: 1, pending: 0, delivered: 0, last_error: 'receiver answered HTTP 503' });
      expect(report.health.consecutive_failures).toBe(1);
      expect(report.deliveries[0]!.attempts).toBeGreaterThan(3);
    });

    it('sends a test event on demand and records it', async () => {
      receiver.setFailing(0);
      const rule = await core.alertRules.create({ name: 't', event_types: ['auth.*'], channel: { type: 'webhook', url: receiver.url } }, ctx);
      expect(await core.deliveries.sendTest(rule.id, ctx)).toEqual({ delivered: true, status: 200, error: null });
      expect(JSON.parse(receiver.calls[0]!.body)).toMatchObject({ entry: { action: 'alert.rule.tested', seq: 0 } });
      const tested = (await core.auditStore.page({ actions: ['alert.rule.tested'] }, { order: 'newest', limit: 1 })).items[0]!;
      expect(JSON.parse(tested.detailsJson)).toMatchObject({ rule_id: rule.id, result: 'delivered', status: 200 });
    });

    it('names the connection error of a failed delivery (test event and health), without the URL’s token or header values', async () => {
      const closed = createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const port = (closed.address() as AddressInfo).port;
      await new Promise<void>((resolve) => closed.close(() => resolve()));
      const url = `http://127.0.0.1:${port}/hooks/path-token-123?token=url-token-456`;
      const rule = await core.alertRules.create({ name: 'down', event_types: ['rotation.*'], channel: { type: 'webhook', url, secret: RULE_SECRET, headers: { Authorization: 'Bearer header-token-789' } } }, ctx);
      const refused = `could not deliver: ECONNREFUSED 127.0.0.1:${port}`;
      expect(await core.deliveries.sendTest(rule.id, ctx)).toEqual({ delivered: false, status: null, error: refused });
      const tested = (await core.auditStore.page({ actions: ['alert.rule.tested'] }, { order: 'newest', limit: 1 })).items[0]!;
      expect(JSON.parse(tested.detailsJson)).toMatchObject({ rule_id: rule.id, result: refused });

      await core.recorder.recordBatch([buildEvent('rotation.failed')]);
      expect(await core.webhooks.deliverDue()).toBe(1);
      const report = await core.deliveries.forRule(rule.id);
      expect(report.health).toMatchObject({ pending: 1, consecutive_failures: 1, last_error: refused });
      const everything = JSON.stringify([report, tested]);
      for (const secret of ['path-token-123', 'url-token-456', 'header-token-789', RULE_SECRET]) expect(everything).not.toContain(secret);

      // fetch refuses ports of the Fetch standard's block list before connecting: say so, not "TypeError".
      const blocked = await core.alertRules.create({ name: 'blocked', event_types: ['auth.*'], channel: { type: 'webhook', url: 'http://127.0.0.1:9/hook?token=url-token-456' } }, ctx);
      expect(await core.deliveries.sendTest(blocked.id, ctx)).toMatchObject({ delivered: false, error: 'could not deliver: port 9 is blocked by fetch (bad port)' });
      const unknownHost = await core.alertRules.create({ name: 'nxdomain', event_types: ['auth.*'], channel: { type: 'webhook', url: 'http://trailmark-no-such-host.invalid/hook' } }, ctx);
      expect((await core.deliveries.sendTest(unknownHost.id, ctx)).error).toMatch(/^could not deliver: (ENOTFOUND|EAI_AGAIN) trailmark-no-such-host\.invalid$/);
    });

    it('names a TLS failure', async () => {
      const sockets: Socket[] = [];
      const plain = createServer((socket) => {
        sockets.push(socket);
        socket.write('hello\r\n');
      });
      await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
      try {
        const port = (plain.address() as AddressInfo).port;
        const rule = await core.alertRules.create({ name: 'tls', event_types: ['auth.*'], channel: { type: 'webhook', url: `https://127.0.0.1:${port}/in` } }, ctx);
        const { error } = await core.deliveries.sendTest(rule.id, ctx);
        expect(error).toMatch(/^could not deliver: ERR_SSL_\w+: .*wrong version number/);
        expect(error).not.toContain('TypeError');
      } finally {
        for (const socket of sockets) socket.destroy();
        await new Promise<void>((resolve) => plain.close(() => resolve()));
      }
    });
  });
}

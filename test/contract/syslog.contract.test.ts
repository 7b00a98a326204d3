import { hostname } from 'node:os';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openCore } from '../../src/app.js';
import type { Core } from '../../src/app.js';
import type { AuditEntryJson } from '../../src/audit/audit-entry.js';
import { presentEntry } from '../../src/audit/audit-entry.js';
import { ManualClock } from '../../src/lib/clock.js';
import { buildEvent } from '../support/audit-fixtures.js';
import { BACKENDS, freshDatabaseUrl } from '../support/backends.js';
import type { TestDatabase } from '../support/backends.js';
import { selfSignedCertificate } from '../support/self-signed-cert.js';
import { startSyslogReceiver } from '../support/syslog-receiver.js';
import type { ReceivedSyslog, SyslogReceiver } from '../support/syslog-receiver.js';

const SECRET = 'syslog-test-secret-key-0123456789abcdefghi';
const ctx = { principal: { kind: 'user' as const, userId: 'u', username: 'admin', role: 'admin' as const, sessionIdHash: 'x', csrfToken: 'y' }, ip: '127.0.0.1', userAgent: null, requestId: 'r' };
const PRI = { info: 134, warning: 132, error: 131, critical: 130 } as const;

const sd = (m: ReceivedSyslog): Record<string, string> => {
  const element = m.structuredData.find((e) => e.id === 'trailmark@32473');
  if (!element) throw new Error('no trailmark@32473 SD-ELEMENT');
  return Object.fromEntries(element.params);
};

for (const backend of BACKENDS) {
  describe(`syslog forwarding through the outbox (${backend})`, () => {
    let tdb: TestDatabase;
    let core: Core;
    let clock: ManualClock;
    let receivers: SyslogReceiver[];

    const receiver = async (options: Parameters<typeof startSyslogReceiver>[0] = {}): Promise<SyslogReceiver> => {
      const r = await startSyslogReceiver(options);
      receivers.push(r);
      return r;
    };
    const syslogRule = (r: { port: number }, extra: { name?: string; event_types?: string[]; tls?: boolean; ca?: string; app_name?: string } = {}) =>
      core.alertRules.create({ name: extra.name ?? 'siem', event_types: extra.event_types ?? ['auth.*', 'rotation.*'], channel: { type: 'syslog', host: '127.0.0.1', port: r.port, tls: extra.tls, ca: extra.ca, app_name: extra.app_name } }, ctx);
    const entryJson = async (seq: number): Promise<AuditEntryJson> => presentEntry((await core.auditStore.getBySeq(seq))!);

    beforeEach(async () => {
      tdb = await freshDatabaseUrl(backend);
      clock = new ManualClock(Date.UTC(2026, 5, 1));
      core = await openCore({ databaseUrl: tdb.url, clock, secretKey: SECRET });
      receivers = [];
    });
    afterEach(async () => {
      await core.close();
      for (const r of receivers) await r.close();
      await tdb.cleanup();
      // Every frame any receiver got must have parsed.
      for (const r of receivers) r.assertEveryFrameParsed();
    });

    it('sends each matched entry as one RFC 5424 frame, over one connection it keeps', async () => {
      const r = await receiver();
      const rule = await syslogRule(r);
      const first = await core.recorder.recordBatch([buildEvent('auth.login.failed'), buildEvent('sync.started'), buildEvent('auth.account.locked'), buildEvent('rotation.failed'), buildEvent('rotation.started')]);
      expect(await core.webhooks.deliverDue()).toBe(4);
      await r.waitFor(4);
      const second = await core.recorder.recordBatch([buildEvent('rotation.completed')]);
      expect(await core.webhooks.deliverDue()).toBe(1);
      await r.waitFor(5);

      const matched = [...first, ...second].filter((e) => e.action !== 'sync.started');
      expect(r.messages.map((m) => Number(sd(m).seq))).toEqual(matched.map((e) => e.seq));
      expect(r.connections()).toBe(1);
      const deliveries = await core.deliveries.forRule(rule.id);
      for (const [i, m] of r.messages.entries()) {
        const entry = await entryJson(matched[i]!.seq);
        expect(m).toMatchObject({ pri: PRI[entry.severity], facility: 16, version: 1, timestamp: entry.ts, appName: 'trailmark', procId: '-', msgId: entry.action, bom: true });
        expect(m.hostname).toBe(hostname().replace(/[^\x21-\x7e]/g, '').slice(0, 255) || '-');
        expect(sd(m)).toEqual({ seq: String(entry.seq), hash: entry.hash, delivery_id: expect.any(String), rule_id: rule.id, rule_name: 'siem' });
        expect(JSON.parse(m.msg!)).toEqual(entry);
        expect(deliveries.deliveries.map((d) => d.delivery_id)).toContain(sd(m).delivery_id);
      }
      expect(new Set(r.messages.map((m) => sd(m).delivery_id)).size).toBe(5);
      expect(deliveries.health).toMatchObject({ delivered: 5, pending: 0, dead: 0, consecutive_failures: 0, last_error: null });
      expect(deliveries.deliveries.every((d) => d.status === 'delivered' && d.last_status === null)).toBe(true);
    });

    it('retries while the receiver is down, then delivers each entry once', async () => {
      const down = await receiver();
      const port = down.port;
      await down.close();
      const rule = await syslogRule({ port });
      await core.recorder.recordBatch([buildEvent('rotation.started'), buildEvent('rotation.failed')]);
      expect(await core.webhooks.deliverDue()).toBe(2);
      let report = await core.deliveries.forRule(rule.id);
      expect(report.health).toMatchObject({ pending: 2, delivered: 0, consecutive_failures: 2 });
      expect(report.health.last_error).toMatch(/^could not deliver: ECONNREFUSED/);
      expect(await core.webhooks.deliverDue()).toBe(0); // backing off

      clock.advance(60 * 60_000);
      expect(await core.webhooks.deliverDue()).toBe(2); // still down
      const up = await receiver({ port });
      clock.advance(2 * 60 * 60_000);
      expect(await core.webhooks.deliverDue()).toBe(2);
      await up.waitFor(2);
      report = await core.deliveries.forRule(rule.id);
      expect(report.health).toMatchObject({ pending: 0, delivered: 2, dead: 0, consecutive_failures: 0 });
      expect(report.deliveries.every((d) => d.attempts === 3)).toBe(true);
      expect(up.messages.map((m) => sd(m).delivery_id).sort()).toEqual(report.deliveries.map((d) => d.delivery_id).sort());
      clock.advance(24 * 60 * 60_000);
      expect(await core.webhooks.deliverDue()).toBe(0);
      expect(up.messages).toHaveLength(2);
    });

    it('opens a new connection after the receiver dropped the old one', async () => {
      const r = await receiver();
      await syslogRule(r);
      await core.recorder.record(buildEvent('rotation.started'));
      await core.webhooks.deliverDue();
      await r.waitFor(1);
      await r.dropConnections();
      // Let the receiver's FIN reach the sender, as it would between two deliveries.
      await new Promise((resolve) => setTimeout(resolve, 50));
      await core.recorder.record(buildEvent('rotation.completed'));
      expect(await core.webhooks.deliverDue()).toBe(1);
      await r.waitFor(2);
      expect(r.messages.map((m) => m.connection)).toEqual([1, 2]);
    });

    it('escapes ", \\ and ] in SD-PARAM values and carries any text in MSG', async () => {
      const r = await receiver();
      const name = 'SOC "prod" \\ [eu] ünïcode';
      await syslogRule(r, { name, app_name: 'audit-trail' });
      await core.recorder.record(buildEvent('rotation.started', { resource: { id: 'r"]\\', name: 'x ] " \\ \u2028 y' } }));
      await core.webhooks.deliverDue();
      await r.waitFor(1);
      const [m] = r.messages;
      expect(sd(m!).rule_name).toBe(name);
      expect(m!.appName).toBe('audit-trail');
      expect(m!.raw.toString('utf8')).toContain('rule_name="SOC \\"prod\\" \\\\ [eu\\] ünïcode"');
      expect(JSON.parse(m!.msg!)).toMatchObject({ resource: { id: 'r"]\\', name: 'x ] " \\ \u2028 y' } });
    });

    it('speaks TLS to a receiver whose private CA the rule names, and refuses an unknown certificate', async () => {
      const cert = selfSignedCertificate();
      const r = await receiver({ tls: cert });
      const trusted = await syslogRule(r, { name: 'tls', tls: true, ca: cert.cert, event_types: ['rotation.*'] });
      const untrusted = await syslogRule(r, { name: 'no-ca', tls: true, event_types: ['rotation.*'] });
      await core.recorder.recordBatch([buildEvent('rotation.started'), buildEvent('rotation.completed')]);
      expect(await core.webhooks.deliverDue()).toBe(4);
      await r.waitFor(2);
      expect(r.messages.map((m) => sd(m).rule_id)).toEqual([trusted.id, trusted.id]);
      expect(r.connections()).toBe(1);
      expect((await core.deliveries.forRule(trusted.id)).health).toMatchObject({ delivered: 2, pending: 0 });
      const refused = await core.deliveries.forRule(untrusted.id);
      expect(refused.health).toMatchObject({ delivered: 0, pending: 2 });
      expect(refused.health.last_error).toMatch(/self[- ]signed certificate/i);
    });

    it('sends a test event on demand over its own connection', async () => {
      const r = await receiver();
      const rule = await syslogRule(r);
      expect(await core.deliveries.sendTest(rule.id, ctx)).toEqual({ delivered: true, status: null, error: null });
      await r.waitFor(1);
      expect(r.messages[0]).toMatchObject({ msgId: 'alert.rule.tested', pri: PRI.info });
      expect(sd(r.messages[0]!)).toMatchObject({ seq: '0', delivery_id: 'test-r', rule_id: rule.id });
      const tested = (await core.auditStore.page({ actions: ['alert.rule.tested'] }, { order: 'newest', limit: 1 })).items[0]!;
      expect(JSON.parse(tested.detailsJson)).toEqual({ rule_id: rule.id, tested_by: 'admin', result: 'delivered' });
    });
  });
}

describe('TLS test certificates', () => {
  it.each(['openssl', 'node'] as const)('a certificate made with %s carries a syslog frame over TLS', async (prefer) => {
    const { SyslogSender } = await import('../../src/forwarding/syslog-sender.js');
    const cert = selfSignedCertificate(prefer);
    if (prefer === 'node') expect(cert.madeBy).toBe('node');
    const r = await startSyslogReceiver({ tls: cert });
    const sender = new SyslogSender({ hostname: 'test-host' });
    try {
      const entry = { id: 'e', seq: 1, ts: '2026-06-01T00:00:00.000Z', occurred_at: null, action: 'rotation.started', category: 'rotation', severity: 'info', actor: { type: 'system', id: null, name: null }, resource: { type: 'secret', id: 's', name: null }, description: 'd', details: {}, source: { ip: null, user_agent: null, token_id: null }, request_id: null, prev_hash: '0'.repeat(64), hash: '1'.repeat(64) } as const;
      const result = await sender.send({ id: 'r', name: 'n', channel: { type: 'syslog', host: 'localhost', port: r.port, tls: true, app_name: 'trailmark', ca: cert.cert } }, entry, 'd-1');
      expect(result).toEqual({ ok: true, status: null, error: null });
      await r.waitFor(1);
      expect(r.messages[0]).toMatchObject({ hostname: 'test-host', msgId: 'rotation.started' });
    } finally {
      sender.close();
      await r.close();
    }
    r.assertEveryFrameParsed();
  });
});

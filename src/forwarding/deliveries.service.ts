import type { AlertRuleService } from '../alerts/alert-rule.service.js';
import type { AlertRule } from '../alerts/alert-rule.js';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import type { AuditEntryJson } from '../audit/audit-entry.js';
import type { RequestContext } from '../audit/audit.service.js';
import { actorOf } from '../audit/audit.service.js';
import { CHAIN_GENESIS } from '../chain/entry-hash.js';
import type { Clock } from '../lib/clock.js';
import type { OutboxRow, OutboxStore } from './outbox.store.js';
import { sendOnce } from './channel-senders.js';
import type { SendResult } from './channel-sender.js';

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function presentDelivery(r: OutboxRow) {
  return {
    delivery_id: r.delivery_id,
    entry_seq: r.entry_seq,
    status: r.status,
    attempts: r.attempts,
    created_at: iso(r.created_at)!,
    next_attempt_at: r.status === 'pending' ? iso(r.next_attempt_at) : null,
    delivered_at: iso(r.delivered_at),
    last_status: r.last_status,
    last_error: r.last_error,
  };
}

/** A rule's delivery health and recent deliveries, and the "send test event" action. */
export class DeliveriesService {
  constructor(
    private readonly rules: AlertRuleService,
    private readonly outbox: OutboxStore,
    private readonly recorder: AuditRecorder,
    private readonly clock: Clock,
    /** How test events go out: over a connection of their own, closed afterwards. */
    private readonly send: (rule: AlertRule, entry: AuditEntryJson, deliveryId: string, nowMs: number) => Promise<SendResult> = sendOnce,
  ) {}

  async forRule(ruleId: string, limit = 50) {
    await this.rules.get(ruleId);
    const recent = await this.outbox.recent(ruleId, limit);
    const counts = await this.outbox.counts(ruleId);
    const lastSuccess = recent.find((r) => r.status === 'delivered');
    const lastFailure = recent.find((r) => r.last_error !== null);
    let consecutive = 0;
    for (const r of recent) {
      if (r.status === 'delivered') break;
      if (r.attempts > 0) consecutive += 1;
    }
    return {
      health: {
        ...counts,
        last_success_at: iso(lastSuccess?.delivered_at ?? null),
        last_error: lastFailure?.last_error ?? null,
        consecutive_failures: consecutive,
      },
      deliveries: recent.map(presentDelivery),
    };
  }

  /** Sends a synthetic entry (not part of the chain) now, and records the attempt. */
  async sendTest(ruleId: string, ctx: RequestContext): Promise<{ delivered: boolean; status: number | null; error: string | null }> {
    const rule = await this.rules.get(ruleId);
    const actor = actorOf(ctx.principal);
    const now = this.clock.now();
    const sample: AuditEntryJson = {
      id: '00000000-0000-7000-8000-000000000000',
      seq: 0,
      ts: new Date(now).toISOString(),
      occurred_at: null,
      action: 'alert.rule.tested',
      category: 'alert',
      severity: 'info',
      actor,
      resource: { type: 'alert_rule', id: rule.id, name: rule.name },
      description: `Test event for alert rule ${rule.name} (not part of the audit chain)`,
      details: { rule_id: rule.id, tested_by: actor.name, test: true },
      source: { ip: null, user_agent: null, token_id: null },
      request_id: ctx.requestId,
      prev_hash: CHAIN_GENESIS,
      hash: '0'.repeat(64),
    };
    const result = await this.send(rule, sample, `test-${ctx.requestId}`, now);
    await this.recorder.record({
      action: 'alert.rule.tested',
      actor,
      resource: { id: rule.id, name: rule.name },
      details: { rule_id: rule.id, tested_by: actor.name ?? 'unknown', result: result.ok ? 'delivered' : (result.error ?? 'failed'), ...(result.status !== null ? { status: result.status } : {}) },
      source: { ip: ctx.ip, user_agent: ctx.userAgent },
      requestId: ctx.requestId,
    });
    return { delivered: result.ok, status: result.status, error: result.error };
  }
}

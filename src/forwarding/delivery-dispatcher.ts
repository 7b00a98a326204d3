import type { AlertRuleStore } from '../alerts/alert-rule.store.js';
import type { AlertRule } from '../alerts/alert-rule.js';
import type { AuditEntryJson, StoredEntry } from '../audit/audit-entry.js';
import { presentEntry } from '../audit/audit-entry.js';
import type { SqlAuditStore } from '../audit/sql-audit-store.js';
import type { Catalog } from '../catalog/catalog.js';
import type { Clock } from '../lib/clock.js';
import type { Metrics } from '../metrics/metrics.js';
import type { SqlExecutor } from '../store/sql-database.js';
import { ChannelSenders } from './channel-senders.js';
import type { OutboxRow, OutboxStore } from './outbox.store.js';
import { RuleMatcher } from './rule-matcher.js';
import { backoffMs } from './webhook-payload.js';

/** Deliveries are retried for this long, then left dead. */
export const RETRY_WINDOW_MS = 24 * 60 * 60_000;
const RULES_TTL_MS = 5_000;
const CLAIM_BATCH = 20;
const LEASE_MS = 60_000;

/**
 * Alert-rule forwarding with a durable outbox, for every channel type. `enqueue` runs inside
 * the append transaction and writes one outbox row per (entry, matching rule), so a crash
 * never loses a matched event. `deliverDue` claims due rows under a lease (several nodes take
 * different rows) and hands each to the sender of its rule's channel type (webhook POST,
 * syslog frame): at least once, same delivery id on every retry, exponential backoff with
 * jitter, dead after 24 hours. Claim, retry and health bookkeeping are the same for all types.
 */
export class DeliveryDispatcher {
  private rules: { at: number; byId: Map<string, AlertRule>; matcher: RuleMatcher } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private readonly senders: ChannelSenders;

  constructor(
    private readonly deps: { outbox: OutboxStore; rules: AlertRuleStore; audit: SqlAuditStore; catalog: Catalog; clock: Clock; metrics?: Metrics; senders?: ChannelSenders },
  ) {
    this.senders = deps.senders ?? new ChannelSenders();
  }

  /** Forget cached rules (after a rule changes on this node). */
  invalidateRules(): void {
    this.rules = undefined;
  }

  readonly enqueue = async (tx: SqlExecutor, stored: readonly StoredEntry[]): Promise<void> => {
    const { matcher } = await this.currentRules();
    if (matcher.size === 0) return;
    const items = stored.flatMap((e) => matcher.match(e).map((ruleId) => ({ ruleId, seq: e.seq })));
    if (items.length > 0) await this.deps.outbox.add(tx, items, this.deps.clock.now());
  };

  start(intervalMs = 1_000): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.deliverDue().catch(() => undefined), intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and closes held connections (syslog). */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.senders.close();
  }

  /** Delivers what is due now; returns how many deliveries were attempted. */
  async deliverDue(): Promise<number> {
    if (this.running) return 0;
    this.running = true;
    let attempted = 0;
    try {
      for (;;) {
        const now = this.deps.clock.now();
        const rows = await this.deps.outbox.claim(now, now + LEASE_MS, CLAIM_BATCH);
        if (rows.length === 0) return attempted;
        this.invalidateRules();
        const { byId } = await this.currentRules();
        const entries = await this.entriesOf(rows);
        // Sends start in claim order (entry_seq), so a connection carries a rule's entries in order.
        await Promise.all(rows.map((row) => this.deliver(row, byId.get(row.rule_id), entries.get(row.entry_seq))));
        attempted += rows.length;
      }
    } finally {
      this.running = false;
    }
  }

  private async entriesOf(rows: readonly OutboxRow[]): Promise<Map<number, AuditEntryJson>> {
    const out = new Map<number, AuditEntryJson>();
    for (const seq of new Set(rows.map((r) => r.entry_seq))) {
      const entry = await this.deps.audit.getBySeq(seq);
      if (entry) out.set(seq, presentEntry(entry));
    }
    return out;
  }

  private async deliver(row: OutboxRow, rule: AlertRule | undefined, entry: AuditEntryJson | undefined): Promise<void> {
    const { outbox, clock } = this.deps;
    if (!rule) return outbox.failed(row.delivery_id, 'the alert rule was deleted', null, null);
    if (!entry) return outbox.failed(row.delivery_id, 'the entry is no longer stored (retention)', null, null);
    const result = await this.senders.send(rule, entry, row.delivery_id, clock.now());
    if (result.ok) {
      this.deps.metrics?.deliveries.inc({ outcome: 'delivered' });
      return outbox.delivered(row.delivery_id, result.status, clock.now());
    }
    const next = clock.now() + backoffMs(row.attempts);
    const dead = next - row.created_at > RETRY_WINDOW_MS;
    this.deps.metrics?.deliveries.inc({ outcome: dead ? 'dead' : 'retry' });
    await outbox.failed(row.delivery_id, result.error ?? 'failed', result.status, dead ? null : next);
  }

  private async currentRules(): Promise<{ byId: Map<string, AlertRule>; matcher: RuleMatcher }> {
    const now = this.deps.clock.now();
    if (!this.rules || now - this.rules.at > RULES_TTL_MS || now < this.rules.at) {
      const list = await this.deps.rules.list();
      this.rules = { at: now, byId: new Map(list.map((r) => [r.id, r])), matcher: new RuleMatcher(list, this.deps.catalog) };
    }
    return this.rules;
  }
}

import { v7 as uuidv7 } from 'uuid';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import type { RequestContext } from '../audit/audit.service.js';
import { actorOf } from '../audit/audit.service.js';
import type { Catalog } from '../catalog/catalog.js';
import type { Severity } from '../catalog/event-definitions.js';
import type { Clock } from '../lib/clock.js';
import { invalid, notFound } from '../lib/errors.js';
import type { ChannelInput, ChannelPatch } from './alert-channel.js';
import { CONTROL, buildChannel, diffChannels, patchChannel } from './alert-channel.js';
import type { AlertRule } from './alert-rule.js';
import { presentRule } from './alert-rule.js';
import type { AlertRuleStore } from './alert-rule.store.js';

export interface AlertRuleInput {
  name: string;
  event_types: string[];
  min_severity?: Severity;
  enabled?: boolean;
  channel: ChannelInput;
}

export type AlertRulePatch = Partial<Omit<AlertRuleInput, 'channel'>> & { channel?: ChannelPatch };

/** Alert rules: validated against the catalog, audited with secrets and header values redacted. */
export class AlertRuleService {
  constructor(
    private readonly store: AlertRuleStore,
    private readonly catalog: Catalog,
    private readonly recorder: AuditRecorder,
    private readonly clock: Clock,
    /** Told after every change, so forwarding stops using the old rule at once on this node. */
    private readonly changed: () => void = () => undefined,
  ) {}

  list(): Promise<AlertRule[]> {
    return this.store.list();
  }

  async get(id: string): Promise<AlertRule> {
    const rule = await this.store.byId(id);
    if (!rule) throw notFound(`Alert rule ${id}`);
    return rule;
  }

  async create(input: AlertRuleInput, ctx: RequestContext): Promise<AlertRule> {
    const actor = actorOf(ctx.principal);
    const now = this.clock.now();
    const rule = this.validate({
      id: uuidv7(),
      name: input.name,
      event_types: input.event_types,
      min_severity: input.min_severity ?? 'info',
      enabled: input.enabled ?? true,
      channel: buildChannel(input.channel),
      created_by: actor.name ?? 'unknown',
      created_at: now,
      updated_at: now,
    });
    const { created_at: _c, updated_at: _u, ...shown } = presentRule(rule);
    await this.recorder.record(
      { action: 'alert.rule.created', actor, resource: { id: rule.id, name: rule.name }, details: { rule: shown, created_by: actor.name ?? 'unknown' }, source: { ip: ctx.ip, user_agent: ctx.userAgent }, requestId: ctx.requestId },
      (tx) => this.store.save(tx, rule, true),
    );
    this.changed();
    return rule;
  }

  async update(id: string, patch: AlertRulePatch, ctx: RequestContext): Promise<AlertRule> {
    const old = await this.get(id);
    const actor = actorOf(ctx.principal);
    const next = this.validate({
      ...old,
      name: patch.name ?? old.name,
      event_types: patch.event_types ?? old.event_types,
      min_severity: patch.min_severity ?? old.min_severity,
      enabled: patch.enabled ?? old.enabled,
      channel: patchChannel(old.channel, patch.channel),
      updated_at: this.clock.now(),
    });
    const changed = diffRules(old, next);
    if (Object.keys(changed).length === 0) return old;
    await this.recorder.record(
      { action: 'alert.rule.updated', actor, resource: { id, name: next.name }, details: { changed_fields: changed, modified_by: actor.name ?? 'unknown' }, source: { ip: ctx.ip, user_agent: ctx.userAgent }, requestId: ctx.requestId },
      (tx) => this.store.save(tx, next, false),
    );
    this.changed();
    return next;
  }

  async delete(id: string, ctx: RequestContext): Promise<void> {
    const rule = await this.get(id);
    const actor = actorOf(ctx.principal);
    await this.recorder.record(
      { action: 'alert.rule.deleted', actor, resource: { id, name: rule.name }, details: { rule_id: id, deleted_by: actor.name ?? 'unknown' }, source: { ip: ctx.ip, user_agent: ctx.userAgent }, requestId: ctx.requestId },
      async (tx) => {
        if ((await this.store.delete(tx, id)) === 0) throw notFound(`Alert rule ${id}`);
      },
    );
    this.changed();
  }

  private validate(rule: AlertRule): AlertRule {
    if (rule.name.trim() === '' || CONTROL.test(rule.name)) throw invalid('name must be printable text', { field: 'body.name' });
    rule.event_types.forEach((pattern, i) => {
      if (!this.catalog.expandPattern(pattern)) {
        throw invalid(`event_types[${i}] '${pattern}' matches no catalog action (use an action, a prefix like rotation.*, or *)`, { field: `body.event_types[${i}]` });
      }
    });
    return { ...rule, event_types: [...new Set(rule.event_types)] };
  }
}

/** Changed fields with old and new values; secrets and header values only as "changed". */
function diffRules(a: AlertRule, b: AlertRule): Record<string, unknown> {
  const pa = presentRule(a);
  const pb = presentRule(b);
  const out: Record<string, unknown> = {};
  for (const key of ['name', 'event_types', 'min_severity', 'enabled'] as const) {
    if (JSON.stringify(pa[key]) !== JSON.stringify(pb[key])) out[key] = { old: pa[key], new: pb[key] };
  }
  return { ...out, ...diffChannels(a.channel, b.channel) };
}

import type { RecordInput } from '../audit/audit-recorder.js';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import type { RequestContext } from '../audit/audit.service.js';
import { actorOf } from '../audit/audit.service.js';
import type { LoginPolicy } from '../auth/auth.service.js';
import type { Clock } from '../lib/clock.js';
import type { SettingName, Settings } from './settings.definitions.js';
import { SETTING_NAMES } from './settings.definitions.js';
import type { SettingsStore } from './settings.store.js';

export interface SettingWarning {
  readonly setting: SettingName;
  readonly message: string;
  readonly entries_to_remove: number;
}

/** How long a node trusts its cached copy; another node's change shows within this time. */
const CACHE_MS = 5_000;
const MINUTE = 60_000;

/** Runtime settings: read (briefly cached), changed with one settings.updated entry per change. */
export class SettingsService {
  private cached: { at: number; value: Settings } | undefined;

  constructor(
    private readonly store: SettingsStore,
    private readonly recorder: AuditRecorder,
    private readonly clock: Clock,
  ) {}

  async get(): Promise<Settings> {
    const now = this.clock.now();
    if (this.cached && now - this.cached.at >= 0 && now - this.cached.at < CACHE_MS) return this.cached.value;
    const value = await this.store.read();
    this.cached = { at: now, value };
    return value;
  }

  /** Applies the changed values; unchanged ones are ignored. Fail closed: no entry, no change. */
  async update(patch: Partial<Settings>, ctx: RequestContext): Promise<{ settings: Settings; changed: SettingName[]; warnings: SettingWarning[] }> {
    this.cached = undefined;
    const current = await this.store.read();
    const changed = SETTING_NAMES.filter((k) => patch[k] !== undefined && patch[k] !== current[k]);
    if (changed.length > 0) {
      const actor = actorOf(ctx.principal);
      const events: RecordInput[] = changed.map((name) => ({
        action: 'settings.updated',
        actor,
        resource: { id: name, name },
        details: { setting: name, old_value: current[name], new_value: patch[name], modified_by: actor.name ?? 'unknown' },
        source: { ip: ctx.ip, user_agent: ctx.userAgent },
        requestId: ctx.requestId,
      }));
      const now = this.clock.now();
      await this.recorder.recordBatch(events, async (tx) => {
        for (const name of changed) await this.store.write(tx, name, patch[name], now);
      });
    }
    this.cached = undefined;
    const warnings: SettingWarning[] = [];
    if (changed.includes('audit_retention_days') && patch.audit_retention_days! < current.audit_retention_days && this.retentionPreview) {
      const n = await this.retentionPreview(patch.audit_retention_days!);
      warnings.push({ setting: 'audit_retention_days', entries_to_remove: n, message: `The next retention run removes ${n} entries recorded more than ${patch.audit_retention_days} days ago. Export them first if you need them.` });
    }
    return { settings: await this.get(), changed, warnings };
  }

  /** Counts what a retention of N days would remove (wired after construction: retention reads settings too). */
  retentionPreview: ((days: number) => Promise<number>) | undefined;

  async loginPolicy(): Promise<LoginPolicy> {
    const s = await this.get();
    return {
      lockoutThreshold: s.lockout_threshold,
      lockoutWindowMs: s.lockout_window_minutes * MINUTE,
      lockDurationMs: s.lockout_duration_minutes * MINUTE,
      idleMs: s.session_idle_minutes * MINUTE,
      absoluteMs: s.session_absolute_hours * 60 * MINUTE,
    };
  }
}

import type { Actor } from '../../src/audit/audit-entry.js';
import type { RecordInput } from '../../src/audit/audit-recorder.js';
import { Catalog } from '../../src/catalog/catalog.js';
import { SAMPLE_DETAILS } from '../../test/support/audit-fixtures.js';
import { prng } from '../../test/support/prng.js';

export { prng };

/**
 * How often each catalog action occurs: routine worker traffic dominates, failures are
 * rarer and critical events rare. Trailmark's own actions (tokens, exports, verification)
 * are left to Trailmark.
 */
const ACTION_WEIGHTS: Record<string, number> = {
  'auth.login.success': 120, 'auth.login.failed': 25, 'auth.logout': 60, 'auth.account.locked': 1,
  'user.created': 4, 'user.updated': 6, 'user.deleted': 2,
  'discovery.scan.started': 80, 'discovery.scan.completed': 75, 'discovery.scan.failed': 5, 'discovery.vault.error': 8,
  'rotation.started': 100, 'rotation.completed': 92, 'rotation.failed': 8,
  'sync.started': 70, 'sync.completed': 66, 'sync.failed': 4,
  'settings.updated': 3, 'subscription.added': 2, 'subscription.removed': 1,
  'alert.rule.created': 2, 'alert.rule.updated': 3, 'alert.rule.deleted': 1,
  'system.license.validated': 4, 'system.license.failed': 1, 'system.task.completed': 30, 'system.task.failed': 2,
};

const FIRST = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan', 'judy', 'mallory', 'niaj', 'olivia', 'peggy', 'rupert', 'sybil', 'trent', 'victor', 'walter', 'yasmin'];
const LAST = ['smith', 'jones', 'garcia', 'chen', 'patel', 'kim', 'novak'];
const APPS = ['billing-api', 'checkout', 'payments', 'search', 'inventory', 'crm', 'reporting', 'auth-gateway', 'mobile-bff', 'warehouse', 'ledger', 'notifications'];
const SECRETS = ['db-password', 'api-key', 'tls-cert', 'oauth-client-secret', 'storage-key', 'webhook-secret', 'smtp-password', 'jwt-signing-key'];
const ENVS = ['prod', 'staging', 'dr', 'dev'];
const ERRORS = ['vault unreachable', 'token expired', 'throttled by provider', 'permission denied on key vault', 'timeout after 30s', 'certificate chain incomplete'];
const TASKS = ['retention', 'checkpoint', 'backup', 'forwarding', 'discovery-schedule'];

export const USERS = FIRST.flatMap((f) => LAST.slice(0, 3).map((l) => `${f}.${l}`));
export const WORKERS = [
  ...Array.from({ length: 8 }, (_, i) => `scanner-${String(i + 1).padStart(2, '0')}`),
  ...Array.from({ length: 8 }, (_, i) => `rotation-worker-${String(i + 1).padStart(2, '0')}`),
  ...Array.from({ length: 8 }, (_, i) => `sync-worker-${String(i + 1).padStart(2, '0')}`),
];
export const VAULTS = ENVS.flatMap((e) => Array.from({ length: 15 }, (_, i) => `kv-${e}-${String(i + 1).padStart(2, '0')}`));

/** Generates varied, valid events for every routine catalog action. */
export class EventGenerator {
  private readonly rand: () => number;
  private readonly actions: string[];
  private readonly cumulative: number[];
  private readonly catalog = new Catalog();

  constructor(seed = 7) {
    this.rand = prng(seed);
    this.actions = Object.keys(ACTION_WEIGHTS);
    let sum = 0;
    this.cumulative = this.actions.map((a) => (sum += ACTION_WEIGHTS[a]!));
  }

  /** One event as a producer sends it (`userActors`: auth and user events name a user, as Trailmark's own would). */
  next(occurredAt: number | null, userActors = true): RecordInput {
    const action = this.pickAction();
    const def = this.catalog.get(action)!;
    const resource = this.resourceFor(def.resourceType);
    return {
      action,
      actor: this.actorFor(def.category, userActors),
      resource,
      details: this.detailsFor(action),
      occurredAt,
      source: { ip: this.ip(), user_agent: this.rand() < 0.5 ? 'trailmark-worker/1.4 (+node)' : 'Mozilla/5.0 (X11; Linux x86_64)' },
    };
  }

  /** The same event as the ingest API's JSON body takes it (worker or system actor only). */
  toIngestJson(e: RecordInput): Record<string, unknown> {
    const actor = e.actor.type === 'user' ? undefined : { type: e.actor.type, id: e.actor.id ?? undefined, name: e.actor.name ?? undefined };
    return {
      action: e.action,
      resource: { type: e.resource.type, id: e.resource.id, name: e.resource.name },
      details: e.details,
      ...(e.occurredAt ? { ts: new Date(e.occurredAt).toISOString() } : {}),
      ...(actor ? { actor } : {}),
    };
  }

  private pickAction(): string {
    const r = this.rand() * this.cumulative[this.cumulative.length - 1]!;
    let lo = 0;
    let hi = this.cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.cumulative[mid]! > r) hi = mid;
      else lo = mid + 1;
    }
    return this.actions[lo]!;
  }

  private pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.rand() * list.length)]!;
  }

  private int(max: number): number {
    return Math.floor(this.rand() * max);
  }

  private ip(): string {
    return `10.${this.int(4)}.${this.int(256)}.${1 + this.int(254)}`;
  }

  private actorFor(category: string, userActors: boolean): Actor {
    if (category === 'system') return { type: 'system', id: 'system', name: 'system' };
    if (userActors && ['auth', 'user', 'settings', 'subscription', 'alert'].includes(category)) {
      const u = this.pick(USERS);
      return { type: 'user', id: `usr-${u}`, name: u };
    }
    const w = this.pick(WORKERS);
    return { type: 'worker', id: `wrk-${w}`, name: w };
  }

  private resourceFor(type: string): RecordInput['resource'] {
    switch (type) {
      case 'secret': {
        const app = this.pick(APPS);
        const secret = this.pick(SECRETS);
        return { type, id: `${app}/${secret}-${this.pick(ENVS)}`, name: `${app} ${secret}` };
      }
      case 'vault':
        return { type, id: this.pick(VAULTS), name: null };
      case 'user': {
        const u = this.pick(USERS);
        return { type, id: `usr-${u}`, name: u };
      }
      case 'scan':
        return { type, id: `scan-${this.int(100_000)}`, name: null };
      case 'sync_job':
        return { type, id: `sync-${this.pick(ENVS)}-${this.int(200)}`, name: null };
      default:
        return { type, id: `${type}-${this.int(50)}`, name: null };
    }
  }

  private detailsFor(action: string): Record<string, unknown> {
    const sample = SAMPLE_DETAILS[action]!;
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(sample)) out[key] = this.vary(key, value);
    return out;
  }

  private vary(key: string, value: unknown): unknown {
    switch (key) {
      case 'username': case 'initiated_by': case 'modified_by': case 'created_by': case 'deleted_by': case 'added_by': case 'removed_by': case 'unlocked_by':
        return this.pick(USERS);
      case 'ip':
        return this.ip();
      case 'app_name':
        return this.pick(APPS);
      case 'secret_name':
        return `${this.pick(SECRETS)}-${this.pick(ENVS)}`;
      case 'vault_name':
        return this.pick(VAULTS);
      case 'updated_vaults': case 'affected_vaults':
        return Array.from({ length: 1 + this.int(3) }, () => this.pick(VAULTS));
      case 'error_message':
        return this.pick(ERRORS);
      case 'task':
        return this.pick(TASKS);
      case 'duration_ms': case 'vault_count': case 'asset_count': case 'synced_count': case 'secret_count': case 'attempt_count':
        return this.int(key === 'duration_ms' ? 60_000 : 500);
      default:
        return value;
    }
  }
}

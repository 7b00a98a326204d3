import type { RecordInput } from '../../../src/audit/audit-recorder.js';
import { openCore } from '../../../src/app.js';
import { ManualClock } from '../../../src/lib/clock.js';

const WORKERS = ['rotation-worker', 'discovery-scanner', 'sync-engine'];
const USERS = ['alice', 'bob', 'carol', 'dave'];
const APPS = ['billing-api', 'checkout', 'identity', 'reporting', 'search'];
const VAULTS = ['kv-prod-weu', 'kv-prod-neu', 'kv-dr', 'kv-staging'];
const SECRETS = ['db-password', 'storage-key', 'api-signing-key', 'smtp-password', 'sp-client-secret'];
const SUB = '0f8fad5b-d9cb-469f-a165-70867728950e';

/** A varied, realistic event: the mix a secrets-management product records in a day. */
function event(i: number): RecordInput {
  const app = APPS[i % APPS.length]!;
  const secret = SECRETS[(i >> 2) % SECRETS.length]!;
  const vault = VAULTS[(i >> 1) % VAULTS.length]!;
  const user = USERS[i % USERS.length]!;
  const worker = (name: string): RecordInput['actor'] => ({ type: 'worker', id: `tok-${name}`, name });
  const ip = `10.20.${(i >> 8) & 255}.${i & 255}`;
  switch (i % 16) {
    case 0:
      return { action: 'rotation.started', actor: worker('rotation-worker'), resource: { id: `${app}/${secret}`, name: secret }, details: { app_name: app, secret_name: secret, initiated_by: 'scheduler' } };
    case 1:
    case 2:
      return { action: 'rotation.completed', actor: worker('rotation-worker'), resource: { id: `${app}/${secret}`, name: secret }, details: { new_expiry: '2027-02-01T00:00:00.000Z', updated_vaults: [vault, 'kv-dr'] } };
    case 3:
      return { action: 'discovery.scan.started', actor: worker('discovery-scanner'), resource: { id: `scan-${i}` }, details: { mode: i % 3 ? 'incremental' : 'full', subscriptions: [SUB], initiated_by: 'scheduler' } };
    case 4:
      return { action: 'discovery.scan.completed', actor: worker('discovery-scanner'), resource: { id: `scan-${i - 1}` }, details: { duration_ms: 4000 + (i % 9000), vault_count: 12, asset_count: 300 + (i % 80) } };
    case 5:
      return { action: 'auth.login.success', actor: { type: 'user', id: `u-${user}`, name: user }, resource: { id: `u-${user}`, name: user }, details: { username: user, ip, user_agent: 'Mozilla/5.0 (X11; Linux x86_64)' } };
    case 6:
      return { action: 'sync.started', actor: worker('sync-engine'), resource: { id: `sync-${i}` }, details: { source: `azure:${vault}`, target: 'aws:sm-prod', secret_count: 40 } };
    case 7:
      return { action: 'sync.completed', actor: worker('sync-engine'), resource: { id: `sync-${i - 1}` }, details: { synced_count: 40, duration_ms: 5100 } };
    case 8:
      return { action: 'auth.login.failed', actor: { type: 'user', id: null, name: 'mallory' }, resource: { id: 'mallory', name: 'mallory' }, details: { username: 'mallory', ip: '203.0.113.9', reason: 'bad_password', user_agent: 'curl/8.5' } };
    case 9:
      return { action: 'discovery.vault.error', actor: worker('discovery-scanner'), resource: { id: vault, name: vault }, details: { vault_name: vault, error_details: { status: 403, message: 'Forbidden by access policy' } } };
    case 10:
      return { action: 'rotation.failed', actor: worker('rotation-worker'), resource: { id: `${app}/${secret}`, name: secret }, details: { error_message: `vault ${vault} unreachable`, rollback_status: 'rolled_back' } };
    case 11:
      return { action: 'auth.logout', actor: { type: 'user', id: `u-${user}`, name: user }, resource: { id: `u-${user}`, name: user }, details: { username: user } };
    case 12:
      return { action: 'system.task.completed', actor: { type: 'system', id: 'system', name: 'system' }, resource: { id: 'retention' }, details: { task: 'retention', duration_ms: 120, totals: { removed: 0 } } };
    case 13:
      return { action: 'sync.failed', actor: worker('sync-engine'), resource: { id: `sync-${i}` }, details: { error_message: 'throttled by target', failed_secrets: [secret] } };
    default:
      return { action: 'rotation.completed', actor: worker(WORKERS[0]!), resource: { id: `${app}/${secret}`, name: secret }, details: { new_expiry: '2027-03-01T00:00:00.000Z', updated_vaults: [vault] } };
  }
}

/**
 * Fills a fresh database through the recorder (as producers would): `bulk` entries in
 * 1,000-event batches spread over the last `days`, then `recent` single entries a few
 * seconds apart ending now, so the newest page has distinct times. Returns how long it took.
 */
export async function seedAuditLog(databaseUrl: string, options: { bulk: number; recent: number; days: number }): Promise<{ ms: number; entries: number }> {
  const started = Date.now();
  const end = Date.now() - 60_000;
  const recentSpan = options.recent * 37_000;
  const clock = new ManualClock(end - options.days * 86_400_000);
  const core = await openCore({ databaseUrl, clock, secretKey: 'seed-only-secret-key-0123456789abcdefghij' });
  try {
    const batches = Math.ceil(options.bulk / 1000);
    const step = Math.max(1, Math.floor((options.days * 86_400_000 - recentSpan) / Math.max(1, batches)));
    let n = 0;
    for (let b = 0; b < batches; b++) {
      const size = Math.min(1000, options.bulk - n);
      await core.recorder.recordBatch(Array.from({ length: size }, (_, k) => event(n + k)));
      n += size;
      clock.advance(step);
    }
    clock.set(end - recentSpan);
    for (let k = 0; k < options.recent; k++) {
      await core.recorder.record(event(n + k));
      clock.advance(37_000);
    }
    return { ms: Date.now() - started, entries: n + options.recent };
  } finally {
    await core.close();
  }
}

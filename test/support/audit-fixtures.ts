import type { RecordInput } from '../../src/audit/audit-recorder.js';

/** Valid details for every catalog action, so tests can post each one. */
export const SAMPLE_DETAILS: Record<string, Record<string, unknown>> = {
  'auth.login.success': { username: 'alice', ip: '10.0.0.1', user_agent: 'Mozilla/5.0' },
  'auth.login.failed': { username: 'mallory', ip: '203.0.113.9', reason: 'bad_password', user_agent: 'curl/8' },
  'auth.logout': { username: 'alice' },
  'auth.account.locked': { username: 'bob', attempt_count: 5 },
  'auth.account.unlocked': { username: 'bob', unlocked_by: 'admin' },
  'auth.token.created': { name: 'scanner', scopes: ['audit:write'], created_by: 'admin' },
  'auth.token.revoked': { name: 'scanner', revoked_by: 'admin' },
  'user.created': { username: 'carol', role: 'viewer', created_by: 'admin' },
  'user.updated': { username: 'carol', changed_fields: { role: { old: 'viewer', new: 'auditor' } }, modified_by: 'admin' },
  'user.deleted': { username: 'carol', deleted_by: 'admin' },
  'discovery.scan.started': { mode: 'full', subscriptions: ['0f8fad5b-d9cb-469f-a165-70867728950e'], initiated_by: 'scheduler' },
  'discovery.scan.completed': { duration_ms: 8123, vault_count: 12, asset_count: 340 },
  'discovery.scan.failed': { error_message: 'token expired', affected_vaults: ['kv-prod'] },
  'discovery.vault.error': { vault_name: 'kv-prod', error_details: { status: 403, message: 'Forbidden' } },
  'rotation.started': { app_name: 'billing-api', secret_name: 'db-password', initiated_by: 'alice' },
  'rotation.completed': { new_expiry: '2027-02-01T00:00:00.000Z', updated_vaults: ['kv-prod', 'kv-dr'] },
  'rotation.failed': { error_message: 'vault unreachable', rollback_status: 'rolled_back' },
  'sync.started': { source: 'azure:kv-prod', target: 'aws:sm-prod', secret_count: 40 },
  'sync.completed': { synced_count: 40, duration_ms: 5100 },
  'sync.failed': { error_message: 'throttled', failed_secrets: ['s1', 's2'] },
  'settings.updated': { setting: 'audit_retention_days', old_value: 90, new_value: 180, modified_by: 'admin' },
  'subscription.added': { subscription_id: '0f8fad5b-d9cb-469f-a165-70867728950e', added_by: 'admin', display_name: 'Prod' },
  'subscription.removed': { subscription_id: '0f8fad5b-d9cb-469f-a165-70867728950e', removed_by: 'admin' },
  'alert.rule.created': { rule: { name: 'failed logins', event_types: ['auth.login.failed'] }, created_by: 'admin' },
  'alert.rule.updated': { changed_fields: { enabled: { old: true, new: false } }, modified_by: 'admin' },
  'alert.rule.deleted': { rule_id: 'r-1', deleted_by: 'admin' },
  'alert.rule.tested': { rule_id: 'r-1', tested_by: 'admin', result: 'delivered', status: 200 },
  'system.started': { version: '0.1.0', backend: 'sqlite', node_version: 'v20.20.2' },
  'system.license.validated': { edition: 'enterprise', valid_until: '2027-12-31T00:00:00Z' },
  'system.license.failed': { error_message: 'licence expired' },
  'system.task.completed': { task: 'retention', duration_ms: 120, totals: { removed: 0 } },
  'system.task.failed': { task: 'retention', duration_ms: 120, error_message: 'disk full' },
  'audit.export.started': { format: 'csv', filters: {} },
  'audit.exported': { format: 'csv', filters: {}, row_count: 10, final_hash: 'ab'.repeat(32) },
  'audit.export.failed': { format: 'pdf', filters: {}, rows_written: 3, error_message: 'client went away' },
  'audit.retention.purged': { cutoff: '2026-08-26T00:00:00.000Z', retention_days: 90, removed_count: 12 },
  'audit.chain.verified': { entry_count: 10, from_seq: 1, to_seq: 10, head_hash: 'cd'.repeat(32) },
  'audit.chain.broken': { first_bad_seq: 4, reason: 'stored hash does not match' },
  'audit.key.rotated': { old_key_id: 'aaaa', new_key_id: 'bbbb', rotated_by: 'trailmark cli' },
  'audit.checkpoint': { seq: 10, hash: 'ef'.repeat(32), key_id: 'k1', signature: 'c2ln' },
};

let counter = 0;

/** A valid event for `action`, with overrides. */
export function buildEvent(action = 'rotation.started', overrides: Partial<RecordInput> = {}): RecordInput {
  counter += 1;
  const details = SAMPLE_DETAILS[action];
  if (!details) throw new Error(`no sample details for ${action}`);
  return {
    action,
    actor: { type: 'worker', id: 'tok-1', name: 'rotation-worker' },
    resource: { id: `res-${counter}`, name: `resource ${counter}` },
    details,
    ...overrides,
  };
}

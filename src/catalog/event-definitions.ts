import { anyValue, details, int, list, obj, oneOf, str, timestamp } from './details-schema.js';
import type { JsonSchema } from './details-schema.js';

export const SEVERITIES = ['info', 'warning', 'error', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const CATEGORIES = ['auth', 'user', 'discovery', 'rotation', 'sync', 'settings', 'subscription', 'alert', 'system', 'audit'] as const;
export type Category = (typeof CATEGORIES)[number];

/** One action Trailmark knows. `action` is dotted; its first segment is its category. */
export interface EventDefinition {
  readonly action: string;
  readonly category: Category;
  readonly severity: Severity;
  /** Why this severity: the catalog documents each choice. */
  readonly severityReason: string;
  readonly resourceType: string;
  /** `{details.x}`, `{actor.name}`, `{resource.id}`… are filled from the entry. */
  readonly description: string;
  readonly details: JsonSchema;
  /** Where the action comes from in the reference, or `trailmark` for Trailmark's own. */
  readonly source: 'reference' | 'trailmark';
}

const FAILURE = 'A failed operation: something the owner must look at.';
const ROUTINE = 'A routine, expected operation.';
const REMOVAL = 'Removes something that watched or controlled access: it narrows oversight, so it stands out.';

const LOGIN_FAILURE_REASONS = ['unknown_user', 'bad_password', 'locked', 'disabled'] as const;
const ROLLBACK_STATES = ['not_required', 'rolled_back', 'partial', 'failed'] as const;

type Def = Omit<EventDefinition, 'category' | 'source'> & { source?: 'trailmark' };

const defs: Def[] = [
  // ── User actions ────────────────────────────────────────────────────────────────
  {
    action: 'auth.login.success', severity: 'info', severityReason: ROUTINE, resourceType: 'user',
    description: 'User {details.username} logged in from {details.ip}',
    details: details({ username: str('Username'), ip: str('Client IP address', 64), user_agent: str('Client user agent') }),
  },
  {
    action: 'auth.login.failed', severity: 'warning',
    severityReason: 'One failure is common; many are a brute-force signal worth watching.',
    resourceType: 'user',
    description: 'Failed login for {details.username} from {details.ip} ({details.reason})',
    details: details(
      { username: str('Username as typed'), ip: str('Client IP address', 64), reason: oneOf('Why the login failed', LOGIN_FAILURE_REASONS) },
      { user_agent: str('Client user agent') },
    ),
  },
  {
    action: 'auth.logout', severity: 'info', severityReason: ROUTINE, resourceType: 'user',
    description: 'User {details.username} logged out',
    details: details({ username: str('Username') }),
  },
  {
    action: 'auth.account.locked', severity: 'critical',
    severityReason: 'Repeated failures reached the lockout threshold: a likely attack on an account.',
    resourceType: 'user',
    description: 'Account {details.username} locked after {details.attempt_count} failed attempts',
    details: details({ username: str('Username'), attempt_count: int('Failed attempts within the window') }, { locked_until: timestamp('When the lock expires (UTC)') }),
  },
  {
    action: 'auth.account.unlocked', severity: 'info', severityReason: ROUTINE, resourceType: 'user', source: 'trailmark',
    description: 'Account {details.username} unlocked by {details.unlocked_by}',
    details: details({ username: str('Username'), unlocked_by: str('Who unlocked it') }),
  },
  {
    action: 'auth.token.created', severity: 'info', severityReason: ROUTINE, resourceType: 'api_token', source: 'trailmark',
    description: 'API token {details.name} created by {details.created_by}',
    details: details({ name: str('Token name'), scopes: list('Granted scopes'), created_by: str('Who created it') }),
  },
  {
    action: 'auth.token.revoked', severity: 'warning', severityReason: REMOVAL, resourceType: 'api_token', source: 'trailmark',
    description: 'API token {details.name} revoked by {details.revoked_by}',
    details: details({ name: str('Token name'), revoked_by: str('Who revoked it') }),
  },
  {
    action: 'user.created', severity: 'info', severityReason: ROUTINE, resourceType: 'user',
    description: 'User {details.username} created with role {details.role} by {details.created_by}',
    details: details({ username: str('Username'), role: str('Role'), created_by: str('Who created the user') }),
  },
  {
    action: 'user.updated', severity: 'info', severityReason: ROUTINE, resourceType: 'user',
    description: 'User {details.username} updated by {details.modified_by}',
    details: details({
      username: str('Username'),
      changed_fields: obj('Each changed field with {old, new}; a password change shows only {changed: true}'),
      modified_by: str('Who modified the user'),
    }),
  },
  {
    action: 'user.deleted', severity: 'warning', severityReason: REMOVAL, resourceType: 'user',
    description: 'User {details.username} deleted by {details.deleted_by}',
    details: details({ username: str('Username'), deleted_by: str('Who deleted the user') }),
  },
  // ── Discovery ───────────────────────────────────────────────────────────────────
  {
    action: 'discovery.scan.started', severity: 'info', severityReason: ROUTINE, resourceType: 'scan',
    description: 'Discovery scan ({details.mode}) started by {details.initiated_by}',
    details: details({ mode: str('Scan mode, e.g. full or incremental', 64), subscriptions: list('Subscription ids scanned'), initiated_by: str('Who or what started the scan') }),
  },
  {
    action: 'discovery.scan.completed', severity: 'info', severityReason: ROUTINE, resourceType: 'scan',
    description: 'Discovery scan completed: {details.vault_count} vaults, {details.asset_count} assets',
    details: details({ duration_ms: int('Duration in milliseconds'), vault_count: int('Vaults found'), asset_count: int('Assets found') }),
  },
  {
    action: 'discovery.scan.failed', severity: 'error', severityReason: FAILURE, resourceType: 'scan',
    description: 'Discovery scan failed: {details.error_message}',
    details: details({ error_message: str('Error message', 4096), affected_vaults: list('Vaults the failure affected') }),
  },
  {
    action: 'discovery.vault.error', severity: 'error', severityReason: FAILURE, resourceType: 'vault',
    description: 'Vault {details.vault_name} could not be read',
    details: details({ vault_name: str('Vault name'), error_details: anyValue('Error details: a message or a structured error') }),
  },
  // ── Rotation ────────────────────────────────────────────────────────────────────
  {
    action: 'rotation.started', severity: 'info', severityReason: ROUTINE, resourceType: 'secret',
    description: 'Rotation of {details.secret_name} for {details.app_name} started by {details.initiated_by}',
    details: details({ app_name: str('Application name'), secret_name: str('Secret name'), initiated_by: str('Who or what started the rotation') }),
  },
  {
    action: 'rotation.completed', severity: 'info', severityReason: ROUTINE, resourceType: 'secret',
    description: 'Rotation completed; new expiry {details.new_expiry}',
    details: details({ new_expiry: timestamp('New expiry date (UTC)'), updated_vaults: list('Vaults updated with the new credential') }),
  },
  {
    action: 'rotation.failed', severity: 'error', severityReason: FAILURE, resourceType: 'secret',
    description: 'Rotation failed: {details.error_message} (rollback: {details.rollback_status})',
    details: details({ error_message: str('Error message', 4096), rollback_status: oneOf('State of the rollback', ROLLBACK_STATES) }),
  },
  // ── Sync ────────────────────────────────────────────────────────────────────────
  {
    action: 'sync.started', severity: 'info', severityReason: ROUTINE, resourceType: 'sync_job',
    description: 'Sync of {details.secret_count} secrets from {details.source} to {details.target} started',
    details: details({ source: str('Source store'), target: str('Target store'), secret_count: int('Secrets to sync') }),
  },
  {
    action: 'sync.completed', severity: 'info', severityReason: ROUTINE, resourceType: 'sync_job',
    description: 'Sync completed: {details.synced_count} secrets',
    details: details({ synced_count: int('Secrets synced'), duration_ms: int('Duration in milliseconds') }),
  },
  {
    action: 'sync.failed', severity: 'error', severityReason: FAILURE, resourceType: 'sync_job',
    description: 'Sync failed: {details.error_message}',
    details: details({ error_message: str('Error message', 4096), failed_secrets: list('Secrets that failed to sync') }),
  },
  // ── Configuration changes ───────────────────────────────────────────────────────
  {
    action: 'settings.updated', severity: 'info', severityReason: ROUTINE, resourceType: 'setting',
    description: 'Setting {details.setting} changed from {details.old_value} to {details.new_value} by {details.modified_by}',
    details: details({ setting: str('Setting name', 128), old_value: anyValue('Previous value'), new_value: anyValue('New value'), modified_by: str('Who changed it') }),
  },
  {
    action: 'subscription.added', severity: 'info', severityReason: ROUTINE, resourceType: 'subscription',
    description: 'Subscription {details.subscription_id} added by {details.added_by}',
    details: details({ subscription_id: str('Subscription id (GUID)', 64), added_by: str('Who added it') }, { display_name: str('Display name') }),
  },
  {
    action: 'subscription.removed', severity: 'warning', severityReason: REMOVAL, resourceType: 'subscription',
    description: 'Subscription {details.subscription_id} removed by {details.removed_by}',
    details: details({ subscription_id: str('Subscription id (GUID)', 64), removed_by: str('Who removed it') }),
  },
  {
    action: 'alert.rule.created', severity: 'info', severityReason: ROUTINE, resourceType: 'alert_rule',
    description: 'Alert rule {resource.name} created by {details.created_by}',
    details: details({ rule: obj('The rule as created, secrets redacted'), created_by: str('Who created it') }),
  },
  {
    action: 'alert.rule.updated', severity: 'info', severityReason: ROUTINE, resourceType: 'alert_rule',
    description: 'Alert rule {resource.name} updated by {details.modified_by}',
    details: details({ changed_fields: obj('Each changed field with {old, new}, secrets redacted'), modified_by: str('Who changed it') }),
  },
  {
    action: 'alert.rule.deleted', severity: 'warning', severityReason: REMOVAL, resourceType: 'alert_rule',
    description: 'Alert rule {details.rule_id} deleted by {details.deleted_by}',
    details: details({ rule_id: str('Rule id', 64), deleted_by: str('Who deleted it') }),
  },
  {
    action: 'alert.rule.tested', severity: 'info', severityReason: ROUTINE, resourceType: 'alert_rule', source: 'trailmark',
    description: 'Test event sent for alert rule {resource.name} by {details.tested_by}: {details.result}',
    details: details({ rule_id: str('Rule id', 64), tested_by: str('Who sent the test'), result: str('delivered, or why not', 512) }, { status: int('HTTP status the receiver answered') }),
  },
  // ── System events ───────────────────────────────────────────────────────────────
  {
    action: 'system.started', severity: 'info', severityReason: ROUTINE, resourceType: 'service', source: 'trailmark',
    description: 'Trailmark {details.version} started on {details.backend}',
    details: details({ version: str('Trailmark version', 64), backend: oneOf('Storage backend', ['sqlite', 'postgres']), node_version: str('Node.js version', 64) }),
  },
  {
    action: 'system.license.validated', severity: 'info', severityReason: ROUTINE, resourceType: 'license',
    description: 'Licence validated: {details.edition}',
    details: details({ edition: str('Licensed edition', 64), valid_until: timestamp('Licence expiry (UTC)') }),
  },
  {
    action: 'system.license.failed', severity: 'error', severityReason: FAILURE, resourceType: 'license',
    description: 'Licence validation failed: {details.error_message}',
    details: details({ error_message: str('Error message', 4096) }),
  },
  {
    action: 'system.task.completed', severity: 'info', severityReason: ROUTINE, resourceType: 'task',
    description: 'Scheduled task {details.task} completed in {details.duration_ms} ms',
    details: details({ task: str('Task name', 128), duration_ms: int('Duration in milliseconds'), totals: obj('What the run did, as counts') }),
  },
  {
    action: 'system.task.failed', severity: 'error', severityReason: FAILURE, resourceType: 'task',
    description: 'Scheduled task {details.task} failed: {details.error_message}',
    details: details({ task: str('Task name', 128), duration_ms: int('Duration in milliseconds'), error_message: str('Error message', 4096) }),
  },
  // ── The audit log's own events ──────────────────────────────────────────────────
  {
    action: 'audit.export.started', severity: 'info', severityReason: ROUTINE, resourceType: 'audit_log', source: 'trailmark',
    description: 'Audit log export as {details.format} started',
    details: details({ format: oneOf('Export format', ['csv', 'pdf']), filters: obj('Filters of the export') }),
  },
  {
    action: 'audit.exported', severity: 'info', severityReason: ROUTINE, resourceType: 'audit_log', source: 'trailmark',
    description: 'Audit log exported as {details.format} ({details.row_count} rows)',
    details: details({
      format: oneOf('Export format', ['csv', 'pdf']), filters: obj('Filters of the export'), row_count: int('Rows exported'), final_hash: str('Final chain hash of the export', 64),
    }),
  },
  {
    action: 'audit.export.failed', severity: 'error', severityReason: FAILURE, resourceType: 'audit_log', source: 'trailmark',
    description: 'Audit log export as {details.format} failed after {details.rows_written} rows: {details.error_message}',
    details: details({ format: oneOf('Export format', ['csv', 'pdf']), filters: obj('Filters of the export'), rows_written: int('Rows written before the failure'), error_message: str('Error message', 4096) }),
  },
  {
    action: 'audit.retention.purged', severity: 'info', severityReason: ROUTINE, resourceType: 'audit_log', source: 'trailmark',
    description: 'Retention removed {details.removed_count} entries older than {details.cutoff}',
    details: details({ cutoff: timestamp('Entries recorded before this were removed'), retention_days: int('Retention setting in days'), removed_count: int('Entries removed') }),
  },
  {
    action: 'audit.chain.verified', severity: 'info', severityReason: ROUTINE, resourceType: 'audit_log', source: 'trailmark',
    description: 'Audit chain verified: {details.entry_count} entries up to seq {details.to_seq}',
    details: details({ entry_count: int('Entries checked'), from_seq: int('First seq checked'), to_seq: int('Last seq checked'), head_hash: str('Hash of the last entry', 64) }),
  },
  {
    action: 'audit.chain.broken', severity: 'critical',
    severityReason: 'The stored trail no longer matches its chain: evidence of tampering or corruption.',
    resourceType: 'audit_log', source: 'trailmark',
    description: 'Audit chain broken at seq {details.first_bad_seq}: {details.reason}',
    details: details({ first_bad_seq: int('First entry that does not verify'), reason: str('Why it does not verify', 1024) }),
  },
  {
    action: 'audit.key.rotated', severity: 'warning', resourceType: 'signing_key', source: 'trailmark',
    severityReason: 'Changes which key signs new exports and checkpoints: verifiers must fetch the new public key.',
    description: 'Signing key rotated: {details.old_key_id} retired, {details.new_key_id} current',
    details: details({ old_key_id: str('Retired key id', 64), new_key_id: str('New current key id', 64), rotated_by: str('Who rotated it') }),
  },
  {
    action: 'audit.checkpoint', severity: 'info', severityReason: ROUTINE, resourceType: 'audit_log', source: 'trailmark',
    description: 'Signed checkpoint of the chain head at seq {details.seq}',
    details: details({ seq: int('Head seq'), hash: str('Head hash', 64), key_id: str('Signing key id', 64), signature: str('Ed25519 signature (base64url)', 128) }),
  },
];

/** Every action Trailmark accepts, in catalog order. */
export const EVENT_DEFINITIONS: readonly EventDefinition[] = defs.map((d) => ({
  ...d,
  category: d.action.split('.')[0] as Category,
  source: d.source ?? 'reference',
}));

/** Shapes of the Trailmark API (see /docs). */
export type Role = 'admin' | 'auditor' | 'operator' | 'viewer';
export const ROLES: readonly Role[] = ['admin', 'auditor', 'operator', 'viewer'];
export type Severity = 'info' | 'warning' | 'error' | 'critical';
export const SEVERITIES: readonly Severity[] = ['info', 'warning', 'error', 'critical'];
export type ActorType = 'user' | 'worker' | 'system';

export interface Me {
  kind: 'user';
  id: string;
  username: string;
  role: Role;
  csrf_token: string;
  /** Not in the API yet: whether this user may export (see mayExport). */
  may_export?: boolean;
}

export interface AuditEntry {
  id: string;
  seq: number;
  ts: string;
  occurred_at: string | null;
  action: string;
  category: string;
  severity: Severity;
  actor: { type: ActorType; id: string | null; name: string | null };
  resource: { type: string; id: string; name: string | null };
  description: string;
  details: unknown;
  source: { ip: string | null; user_agent: string | null; token_id: string | null };
  request_id: string | null;
  prev_hash: string;
  hash: string;
}

export interface AuditPage {
  items: AuditEntry[];
  next_cursor: string | null;
  total?: { count: number; capped: boolean };
}

export interface CatalogAction {
  action: string;
  category: string;
  severity: Severity;
  severity_reason: string;
  resource_type: string;
  description: string;
}

export interface Catalog {
  categories: string[];
  severities: Severity[];
  actions: CatalogAction[];
}

export interface Settings {
  audit_retention_days: number;
  lockout_threshold: number;
  lockout_window_minutes: number;
  lockout_duration_minutes: number;
  session_idle_minutes: number;
  session_absolute_hours: number;
  tenant_name: string;
  auditors_may_export: boolean;
  stdout_mirror: boolean;
  [key: string]: unknown;
}

export interface User {
  id: string;
  username: string;
  role: Role;
  disabled: boolean;
  locked_until: string | null;
  created_at: string;
  updated_at: string;
}

export interface ApiToken {
  id: string;
  name: string;
  scopes: string[];
  created_by: string | null;
  created_at: string;
  revoked_at: string | null;
  last_used_at: string | null;
}

export interface Subscription {
  subscription_id: string;
  display_name: string | null;
  added_by: string;
  created_at: string;
}

export type RuleChannel =
  | { type: 'webhook'; url: string; format: string; header_names: string[]; has_secret: boolean }
  | { type: 'syslog'; host: string; port: number; tls: boolean; app_name: string; has_ca: boolean };

export interface AlertRule {
  id: string;
  name: string;
  event_types: string[];
  min_severity: Severity;
  enabled: boolean;
  channel: RuleChannel;
  created_by: string;
  created_at: string;
  updated_at: string;
}

export interface Deliveries {
  health: { pending: number; delivered: number; dead: number; last_success_at: string | null; last_error: string | null; consecutive_failures: number };
  deliveries: Array<{
    delivery_id: string;
    entry_seq: number;
    status: string;
    attempts: number;
    created_at: string;
    next_attempt_at: string | null;
    delivered_at: string | null;
    last_status: number | null;
    last_error: string | null;
  }>;
}

/** Whether to offer the Export menu: the server says (`may_export`: admins, and auditors when the setting allows). */
export function mayExport(me: Me): boolean {
  return me.may_export ?? me.role === 'admin';
}

export const canManage = (me: Me): boolean => me.role === 'admin' || me.role === 'operator';

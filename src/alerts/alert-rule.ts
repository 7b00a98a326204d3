import type { Severity } from '../catalog/event-definitions.js';

export const WEBHOOK_FORMATS = ['generic', 'splunk_hec', 'datadog'] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];

/** An alert rule as stored, secrets opened. Never presented as is: see `presentRule`. */
export interface AlertRule {
  readonly id: string;
  readonly name: string;
  readonly event_types: string[];
  readonly min_severity: Severity;
  readonly enabled: boolean;
  readonly channel: {
    readonly type: 'webhook';
    readonly url: string;
    readonly format: WebhookFormat;
    readonly headers: Record<string, string>;
    readonly secret: string | null;
  };
  readonly created_by: string;
  readonly created_at: number;
  readonly updated_at: number;
}

/** A URL with its credentials and query values hidden (they often carry API keys). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    for (const key of [...new Set(u.searchParams.keys())]) u.searchParams.set(key, '***');
    return u.toString().replace(/%2A%2A%2A/g, '***');
  } catch {
    return '***';
  }
}

/** The rule as the API and the audit log show it: no secret, no header values. */
export function presentRule(rule: AlertRule) {
  return {
    id: rule.id,
    name: rule.name,
    event_types: rule.event_types,
    min_severity: rule.min_severity,
    enabled: rule.enabled,
    channel: {
      type: rule.channel.type,
      url: redactUrl(rule.channel.url),
      format: rule.channel.format,
      header_names: Object.keys(rule.channel.headers).sort(),
      has_secret: rule.channel.secret !== null,
    },
    created_by: rule.created_by,
    created_at: new Date(rule.created_at).toISOString(),
    updated_at: new Date(rule.updated_at).toISOString(),
  };
}

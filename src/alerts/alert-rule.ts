import type { Severity } from '../catalog/event-definitions.js';

export const CHANNEL_TYPES = ['webhook', 'syslog'] as const;
export type ChannelType = (typeof CHANNEL_TYPES)[number];

export const WEBHOOK_FORMATS = ['generic', 'splunk_hec', 'datadog'] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];

/** An HTTP POST per delivery; `url`, `headers` and `secret` are sealed at rest. */
export interface WebhookChannel {
  readonly type: 'webhook';
  readonly url: string;
  readonly format: WebhookFormat;
  readonly headers: Record<string, string>;
  readonly secret: string | null;
}

/** RFC 5424 messages over TCP (RFC 6587 octet counting), optionally TLS (RFC 5425). */
export interface SyslogChannel {
  readonly type: 'syslog';
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  /** RFC 5424 APP-NAME (1–48 printable US-ASCII characters). */
  readonly app_name: string;
  /** PEM certificates trusted for the receiver instead of the system roots (TLS only). */
  readonly ca: string | null;
}

export type AlertChannel = WebhookChannel | SyslogChannel;

export const DEFAULT_SYSLOG_APP_NAME = 'trailmark';

/** An alert rule as stored, secrets opened. Never presented as is: see `presentRule`. */
export interface AlertRule {
  readonly id: string;
  readonly name: string;
  readonly event_types: string[];
  readonly min_severity: Severity;
  readonly enabled: boolean;
  readonly channel: AlertChannel;
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

/** A channel as the API and the audit log show it: no secret, no header values, no CA body. */
export function presentChannel(channel: AlertChannel) {
  if (channel.type === 'syslog') {
    return { type: channel.type, host: channel.host, port: channel.port, tls: channel.tls, app_name: channel.app_name, has_ca: channel.ca !== null };
  }
  return {
    type: channel.type,
    url: redactUrl(channel.url),
    format: channel.format,
    header_names: Object.keys(channel.headers).sort(),
    has_secret: channel.secret !== null,
  };
}

/** The rule as the API and the audit log show it (see `presentChannel`). */
export function presentRule(rule: AlertRule) {
  return {
    id: rule.id,
    name: rule.name,
    event_types: rule.event_types,
    min_severity: rule.min_severity,
    enabled: rule.enabled,
    channel: presentChannel(rule.channel),
    created_by: rule.created_by,
    created_at: new Date(rule.created_at).toISOString(),
    updated_at: new Date(rule.updated_at).toISOString(),
  };
}

import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { invalid } from '../lib/errors.js';
import type { AlertChannel, ChannelType, SyslogChannel, WebhookChannel, WebhookFormat } from './alert-rule.js';
import { DEFAULT_SYSLOG_APP_NAME, presentChannel, redactUrl } from './alert-rule.js';

export interface WebhookChannelInput {
  type: 'webhook';
  url: string;
  secret?: string | null;
  headers?: Record<string, string>;
  format?: WebhookFormat;
}

export interface SyslogChannelInput {
  type: 'syslog';
  host: string;
  port: number;
  tls?: boolean;
  app_name?: string;
  ca?: string | null;
}

export type ChannelInput = WebhookChannelInput | SyslogChannelInput;
/** A PATCH of the channel: only what changes; with another `type`, the whole new channel. */
export type ChannelPatch = Partial<WebhookChannelInput> | Partial<SyslogChannelInput>;

const FIELDS: Record<ChannelType, readonly string[]> = {
  webhook: ['type', 'url', 'secret', 'headers', 'format'],
  syslog: ['type', 'host', 'port', 'tls', 'app_name', 'ca'],
};

/** Headers Trailmark sets itself on deliveries: a rule may not override them. */
const RESERVED_HEADERS = new Set(['host', 'content-length', 'content-type', 'transfer-encoding', 'connection', 'x-trailmark-signature', 'x-trailmark-delivery']);
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/;
// eslint-disable-next-line no-control-regex
export const CONTROL = /[\u0000-\u001f\u007f]/;
/** What an HTTP header value cannot carry: control characters (but TAB) and anything past Latin-1. */
const HEADER_VALUE_UNSENDABLE = /[^\t\x20-\x7e\x80-\xff]/;
/** RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens. */
const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;
/** RFC 5424 APP-NAME: 1*48 PRINTUSASCII. */
const APP_NAME = /^[\x21-\x7e]{1,48}$/;
const PEM_CERT = /-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\r\n]+-----END CERTIFICATE-----/g;

const field = (name: string) => ({ field: `body.channel.${name}` });

/** A new channel from a create request (defaults applied), validated. */
export function buildChannel(input: ChannelInput): AlertChannel {
  if (input.type === 'webhook') {
    if (input.url === undefined) throw invalid('channel.url is required for a webhook channel', field('url'));
    return validateChannel({ type: 'webhook', url: input.url, format: input.format ?? 'generic', headers: input.headers ?? {}, secret: input.secret ?? null });
  }
  if (input.host === undefined) throw invalid('channel.host is required for a syslog channel', field('host'));
  if (input.port === undefined) throw invalid('channel.port is required for a syslog channel', field('port'));
  return validateChannel({ type: 'syslog', host: input.host, port: input.port, tls: input.tls ?? false, app_name: input.app_name ?? DEFAULT_SYSLOG_APP_NAME, ca: input.ca ?? null });
}

/** The channel after a PATCH: fields merged into the old channel of the same type, or a whole new one. */
export function patchChannel(old: AlertChannel, patch: ChannelPatch | undefined): AlertChannel {
  if (patch === undefined) return old;
  const type = patch.type ?? old.type;
  for (const key of Object.keys(patch)) {
    if (!FIELDS[type].includes(key)) {
      throw invalid(`channel.${key} does not apply to a ${type} channel${patch.type === undefined ? ' (send channel.type to change the type)' : ''}`, field(key));
    }
  }
  if (type !== old.type) return buildChannel(patch as ChannelInput);
  if (old.type === 'webhook') {
    const p = patch as Partial<WebhookChannelInput>;
    return validateChannel({
      type: 'webhook',
      url: p.url ?? old.url,
      format: p.format ?? old.format,
      headers: p.headers ?? old.headers,
      secret: p.secret === undefined ? old.secret : p.secret,
    });
  }
  const p = patch as Partial<SyslogChannelInput>;
  return validateChannel({
    type: 'syslog',
    host: p.host ?? old.host,
    port: p.port ?? old.port,
    tls: p.tls ?? old.tls,
    app_name: p.app_name ?? old.app_name,
    ca: p.ca === undefined ? old.ca : p.ca,
  });
}

function validateChannel<C extends AlertChannel>(channel: C): C {
  if (channel.type === 'webhook') validateWebhook(channel);
  else validateSyslog(channel);
  return channel;
}

function validateWebhook(c: WebhookChannel): void {
  let url: URL;
  try {
    url = new URL(c.url);
  } catch {
    throw invalid('channel.url must be an absolute http(s) URL', field('url'));
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalid('channel.url must use http or https', field('url'));
  if (url.username || url.password) throw invalid('channel.url must not carry credentials: put them in channel.headers', field('url'));
  for (const [name, value] of Object.entries(c.headers)) {
    if (!HEADER_NAME.test(name)) throw invalid(`channel.headers: '${name}' is not a valid header name`, field('headers'));
    if (RESERVED_HEADERS.has(name.toLowerCase())) throw invalid(`channel.headers: '${name}' is set by Trailmark and cannot be overridden`, field('headers'));
    if (HEADER_VALUE_UNSENDABLE.test(value)) throw invalid(`channel.headers: the value of '${name}' must be printable ISO-8859-1 text (no CR, LF or other control characters)`, field('headers'));
  }
}

function validateSyslog(c: SyslogChannel): void {
  // Digits and dots only must be an IPv4 address, never a "host name" like 999.1.1.1.
  const hostOk = isIP(c.host) !== 0 || (HOSTNAME.test(c.host) && !/^[0-9.]+$/.test(c.host));
  if (!hostOk) throw invalid('channel.host must be a host name or an IP address (IPv6 without brackets), without control characters', field('host'));
  if (!Number.isInteger(c.port) || c.port < 1 || c.port > 65535) throw invalid('channel.port must be an integer from 1 to 65535', field('port'));
  if (!APP_NAME.test(c.app_name)) throw invalid('channel.app_name must be 1 to 48 printable US-ASCII characters without spaces (RFC 5424 APP-NAME)', field('app_name'));
  if (c.ca !== null) {
    if (!c.tls) throw invalid('channel.ca applies only with tls: true', field('ca'));
    const certs = c.ca.match(PEM_CERT) ?? [];
    if (certs.length === 0 || c.ca.replace(PEM_CERT, '').trim() !== '') throw invalid('channel.ca must be one or more PEM certificates (-----BEGIN CERTIFICATE-----) and nothing else', field('ca'));
    for (const pem of certs) {
      try {
        new X509Certificate(pem);
      } catch {
        throw invalid('channel.ca holds a certificate that cannot be parsed', field('ca'));
      }
    }
  }
}

/** Changed channel fields for alert.rule.updated: old and new values, secrets only as "changed". */
export function diffChannels(a: AlertChannel, b: AlertChannel): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (a.type !== b.type) {
    out.channel = { old: presentChannel(a), new: presentChannel(b) };
    if (b.type === 'webhook' && b.secret !== null) out['channel.secret'] = { changed: true };
    return out;
  }
  if (a.type === 'webhook' && b.type === 'webhook') {
    if (a.url !== b.url) out['channel.url'] = { old: redactUrl(a.url), new: redactUrl(b.url) };
    if (a.format !== b.format) out['channel.format'] = { old: a.format, new: b.format };
    if (JSON.stringify(a.headers) !== JSON.stringify(b.headers)) out['channel.headers'] = { changed: true, names: Object.keys(b.headers).sort() };
    if (a.secret !== b.secret) out['channel.secret'] = { changed: true };
  }
  if (a.type === 'syslog' && b.type === 'syslog') {
    for (const key of ['host', 'port', 'tls', 'app_name'] as const) {
      if (a[key] !== b[key]) out[`channel.${key}`] = { old: a[key], new: b[key] };
    }
    if (a.ca !== b.ca) out['channel.ca'] = { changed: true };
  }
  return out;
}

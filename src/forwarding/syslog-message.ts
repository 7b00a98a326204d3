import type { AuditEntryJson } from '../audit/audit-entry.js';
import type { Severity } from '../catalog/event-definitions.js';

/** Facility of every message: local0 (16), the one set aside for local use. */
export const SYSLOG_FACILITY = 16;
/**
 * SD-ID of Trailmark's structured data. 32473 is the private enterprise number RFC 5612
 * reserves for documentation; receivers should key on the whole SD-ID.
 */
export const SYSLOG_SD_ID = 'trailmark@32473';

/** RFC 5424 severities: critical 2, error 3, warning 4, info (informational) 6. */
export const SYSLOG_SEVERITY: Readonly<Record<Severity, number>> = { critical: 2, error: 3, warning: 4, info: 6 };

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

export interface SyslogContext {
  /** HOSTNAME: the machine Trailmark runs on. */
  readonly hostname: string;
  readonly appName: string;
  readonly deliveryId: string;
  readonly rule: { readonly id: string; readonly name: string };
}

/** PARAM-VALUE escaping (RFC 5424 6.3.3): `"`, `\` and `]` get a backslash. */
export function escapeParamValue(value: string): string {
  return value.replace(/["\\\]]/g, (c) => `\\${c}`);
}

/** A header field as 1*max PRINTUSASCII, or the NILVALUE "-" when nothing printable is left. */
function printable(value: string, max: number): string {
  const kept = value.replace(/[^\x21-\x7e]/g, '').slice(0, max);
  return kept === '' ? '-' : kept;
}

/**
 * One RFC 5424 message: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME - MSGID [trailmark@32473 …] BOM{entry JSON}`.
 * PRI = local0 × 8 + the entry's severity; TIMESTAMP = the entry's `ts`; MSGID = the action;
 * the structured data carries seq, hash, delivery id and the rule.
 */
export function syslogMessage(entry: AuditEntryJson, ctx: SyslogContext): Buffer {
  const pri = SYSLOG_FACILITY * 8 + SYSLOG_SEVERITY[entry.severity];
  const params: Array<[string, string]> = [
    ['seq', String(entry.seq)],
    ['hash', entry.hash],
    ['delivery_id', ctx.deliveryId],
    ['rule_id', ctx.rule.id],
    ['rule_name', ctx.rule.name],
  ];
  const sd = `[${SYSLOG_SD_ID} ${params.map(([name, value]) => `${name}="${escapeParamValue(value)}"`).join(' ')}]`;
  const header = `<${pri}>1 ${entry.ts} ${printable(ctx.hostname, 255)} ${printable(ctx.appName, 48)} - ${printable(entry.action, 32)} ${sd} `;
  return Buffer.concat([Buffer.from(header, 'utf8'), BOM, Buffer.from(JSON.stringify(entry), 'utf8')]);
}

/** RFC 6587 octet-counting frame: `MSG-LEN SP SYSLOG-MSG`, the length in octets. */
export function octetCountingFrame(message: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${message.length} `, 'ascii'), message]);
}

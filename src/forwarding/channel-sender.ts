import type { AlertChannel } from '../alerts/alert-rule.js';
import type { AuditEntryJson } from '../audit/audit-entry.js';

export interface SendResult {
  readonly ok: boolean;
  /** The HTTP status a webhook answered; null for syslog and when nothing answered. */
  readonly status: number | null;
  /** Why it failed, without secrets (no headers, no URL query). */
  readonly error: string | null;
}

/** What a sender needs of a rule: who it is (for payloads and connections) and its channel. */
export interface DeliveryTarget<C extends AlertChannel = AlertChannel> {
  readonly id: string;
  readonly name: string;
  readonly channel: C;
}

/**
 * Sends one entry over one kind of channel. `send` never throws: a failure is a result, so the
 * dispatcher's retry and health bookkeeping is the same for every channel type. The delivery
 * id is the same on every retry of a delivery.
 */
export interface ChannelSender<C extends AlertChannel> {
  send(target: DeliveryTarget<C>, entry: AuditEntryJson, deliveryId: string, nowMs: number): Promise<SendResult>;
  /** Releases held connections; later sends open new ones. */
  close(): void;
}

/**
 * Why a send failed, in one line: the innermost cause (undici's `fetch failed` TypeError wraps
 * the socket, DNS or TLS error in `cause`), as its code and what the message adds, e.g.
 * `ECONNREFUSED 127.0.0.1:8080`, `ENOTFOUND siem.example`, `DEPTH_ZERO_SELF_SIGNED_CERT:
 * self-signed certificate`. An AggregateError (every address of a host refused) lists its parts.
 */
export function failureReason(err: unknown): string {
  let e: unknown = err;
  for (let depth = 0; depth < 5; depth++) {
    const cause = (e as { cause?: unknown } | null)?.cause;
    if (cause === undefined || cause === null) break;
    e = cause;
  }
  const x = (e ?? {}) as { code?: unknown; message?: unknown; name?: unknown; errors?: unknown };
  const code = typeof x.code === 'string' && x.code !== '' ? x.code : null;
  const message = typeof x.message === 'string' ? (x.message.split('\n')[0] ?? '').trim() : '';
  if (message === '' && Array.isArray(x.errors) && x.errors.length > 0) return [...new Set(x.errors.map(failureReason))].join('; ');
  if (code === null) return message || (typeof x.name === 'string' && x.name !== '' ? x.name : String(e));
  const at = message.indexOf(code);
  if (at >= 0) return message.slice(at);
  return message ? `${code}: ${message}` : code;
}

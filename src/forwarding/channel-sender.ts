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

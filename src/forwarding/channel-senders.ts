import type { AlertRule, SyslogChannel, WebhookChannel } from '../alerts/alert-rule.js';
import type { AuditEntryJson } from '../audit/audit-entry.js';
import type { ChannelSender, SendResult } from './channel-sender.js';
import { SyslogSender } from './syslog-sender.js';
import { sendWebhook } from './webhook-sender.js';

const webhookSender: ChannelSender<WebhookChannel> = { send: sendWebhook, close: () => undefined };

/** Picks the sender for a rule's channel type. */
export class ChannelSenders {
  constructor(
    private readonly senders: { webhook: ChannelSender<WebhookChannel>; syslog: ChannelSender<SyslogChannel> } = { webhook: webhookSender, syslog: new SyslogSender() },
  ) {}

  send(rule: AlertRule, entry: AuditEntryJson, deliveryId: string, nowMs: number): Promise<SendResult> {
    const { channel } = rule;
    switch (channel.type) {
      case 'webhook':
        return this.senders.webhook.send({ id: rule.id, name: rule.name, channel }, entry, deliveryId, nowMs);
      case 'syslog':
        return this.senders.syslog.send({ id: rule.id, name: rule.name, channel }, entry, deliveryId, nowMs);
    }
  }

  close(): void {
    this.senders.webhook.close();
    this.senders.syslog.close();
  }
}

/** One delivery over a connection of its own (test events): opened, used, closed. */
export async function sendOnce(rule: AlertRule, entry: AuditEntryJson, deliveryId: string, nowMs: number): Promise<SendResult> {
  const senders = new ChannelSenders();
  try {
    return await senders.send(rule, entry, deliveryId, nowMs);
  } finally {
    senders.close();
  }
}

import { hostname } from 'node:os';
import type { SyslogChannel } from '../alerts/alert-rule.js';
import type { AuditEntryJson } from '../audit/audit-entry.js';
import type { ChannelSender, DeliveryTarget, SendResult } from './channel-sender.js';
import { failureReason } from './channel-sender.js';
import type { SyslogConnectionOptions } from './syslog-connection.js';
import { SyslogConnection } from './syslog-connection.js';
import { octetCountingFrame, syslogMessage } from './syslog-message.js';

const DEFAULTS: SyslogConnectionOptions = { connectTimeoutMs: 10_000, writeTimeoutMs: 10_000, idleMs: 10 * 60_000 };

/**
 * Syslog deliveries: one connection per rule, kept open and reused; a connection that failed,
 * was closed by the receiver, or whose endpoint changed is replaced on the next send.
 */
export class SyslogSender implements ChannelSender<SyslogChannel> {
  private readonly held = new Map<string, { key: string; connection: SyslogConnection }>();
  private readonly hostname: string;
  private readonly options: SyslogConnectionOptions;

  constructor(options: Partial<SyslogConnectionOptions> & { hostname?: string } = {}) {
    this.hostname = options.hostname ?? hostname();
    this.options = { ...DEFAULTS, ...options };
  }

  async send(target: DeliveryTarget<SyslogChannel>, entry: AuditEntryJson, deliveryId: string): Promise<SendResult> {
    const { channel } = target;
    const frame = octetCountingFrame(syslogMessage(entry, { hostname: this.hostname, appName: channel.app_name, deliveryId, rule: { id: target.id, name: target.name } }));
    const connection = this.connectionFor(target);
    try {
      await connection.write(frame);
      return { ok: true, status: null, error: null };
    } catch (err) {
      return { ok: false, status: null, error: `could not deliver: ${failureReason(err)}`.slice(0, 500) };
    }
  }

  close(): void {
    for (const { connection } of this.held.values()) connection.close();
    this.held.clear();
  }

  private connectionFor(target: DeliveryTarget<SyslogChannel>): SyslogConnection {
    const { host, port, tls, ca } = target.channel;
    const key = JSON.stringify([host, port, tls, ca]);
    const current = this.held.get(target.id);
    if (current && current.key === key && current.connection.alive) return current.connection;
    current?.connection.close();
    const connection = new SyslogConnection({ host, port, tls, ca }, this.options);
    this.held.set(target.id, { key, connection });
    return connection;
  }
}

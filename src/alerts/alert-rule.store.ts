import type { Severity } from '../catalog/event-definitions.js';
import type { SealedBox } from '../lib/sealed-box.js';
import type { SqlExecutor } from '../store/sql-database.js';
import type { AlertChannel, AlertRule, SyslogChannel, WebhookFormat } from './alert-rule.js';

interface Row {
  id: string; name: string; event_types: string; min_severity: string; enabled: number; channel_type: string; url: string; format: string;
  headers_enc: string | null; secret_enc: string | null; channel_enc: string | null; created_by: string; created_at: number; updated_at: number;
}
const COLUMNS = 'id, name, event_types, min_severity, enabled, channel_type, url, format, headers_enc, secret_enc, channel_enc, created_by, created_at, updated_at';

/** What `channel_enc` holds for a syslog channel. */
type SyslogSettings = Omit<SyslogChannel, 'type'>;

/**
 * Alert rules in the database. Everything that locates or authenticates a receiver is sealed
 * at rest: a webhook's URL (it may carry an API key), secret and headers; a syslog channel's
 * settings as one sealed JSON (`channel_enc`). `url` and `format` are '' for syslog rows.
 */
export class AlertRuleStore {
  constructor(
    private readonly db: SqlExecutor,
    private readonly box: SealedBox,
  ) {}

  async list(): Promise<AlertRule[]> {
    return (await this.db.all<Row>(`SELECT ${COLUMNS} FROM alert_rules ORDER BY created_at, id`)).map((r) => this.toRule(r));
  }

  async byId(id: string): Promise<AlertRule | undefined> {
    const row = await this.db.get<Row>(`SELECT ${COLUMNS} FROM alert_rules WHERE id = ?`, [id]);
    return row && this.toRule(row);
  }

  async save(tx: SqlExecutor, rule: AlertRule, insert: boolean): Promise<void> {
    const values = [rule.name, JSON.stringify(rule.event_types), rule.min_severity, rule.enabled ? 1 : 0, rule.channel.type, ...this.channelColumns(rule.channel), rule.updated_at];
    if (insert) {
      await tx.run(
        'INSERT INTO alert_rules (name, event_types, min_severity, enabled, channel_type, url, format, headers_enc, secret_enc, channel_enc, updated_at, id, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        [...values, rule.id, rule.created_by, rule.created_at],
      );
    } else {
      await tx.run(
        'UPDATE alert_rules SET name = ?, event_types = ?, min_severity = ?, enabled = ?, channel_type = ?, url = ?, format = ?, headers_enc = ?, secret_enc = ?, channel_enc = ?, updated_at = ? WHERE id = ?',
        [...values, rule.id],
      );
    }
  }

  async delete(tx: SqlExecutor, id: string): Promise<number> {
    return tx.run('DELETE FROM alert_rules WHERE id = ?', [id]);
  }

  /** url, format, headers_enc, secret_enc, channel_enc. */
  private channelColumns(c: AlertChannel): [string, string, string | null, string | null, string | null] {
    if (c.type === 'syslog') {
      const settings: SyslogSettings = { host: c.host, port: c.port, tls: c.tls, app_name: c.app_name, ca: c.ca };
      return ['', '', null, null, this.box.seal(JSON.stringify(settings))];
    }
    const headers = Object.keys(c.headers).length > 0 ? this.box.seal(JSON.stringify(c.headers)) : null;
    return [this.box.seal(c.url), c.format, headers, c.secret === null ? null : this.box.seal(c.secret), null];
  }

  private toChannel(r: Row): AlertChannel {
    if (r.channel_type === 'syslog') {
      if (!r.channel_enc) throw new Error(`alert rule ${r.id}: syslog settings are missing`);
      return { type: 'syslog', ...(JSON.parse(this.box.openText(r.channel_enc)) as SyslogSettings) };
    }
    return {
      type: 'webhook',
      url: this.box.openText(r.url),
      format: r.format as WebhookFormat,
      headers: r.headers_enc ? (JSON.parse(this.box.openText(r.headers_enc)) as Record<string, string>) : {},
      secret: r.secret_enc ? this.box.openText(r.secret_enc) : null,
    };
  }

  private toRule(r: Row): AlertRule {
    return {
      id: r.id,
      name: r.name,
      event_types: JSON.parse(r.event_types) as string[],
      min_severity: r.min_severity as Severity,
      enabled: r.enabled === 1,
      channel: this.toChannel(r),
      created_by: r.created_by,
      created_at: r.created_at,
      updated_at: r.updated_at,
    };
  }
}

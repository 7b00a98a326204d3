import type { FormEvent } from 'react';
import { useState } from 'react';
import { EventTypePicker } from '../audit/event-type-picker';
import type { AlertRule, Catalog, Severity } from '../lib/types';
import { SEVERITIES } from '../lib/types';
import { Notice } from '../ui/notice';

const FORMATS = [
  { value: 'generic', label: 'Generic JSON' },
  { value: 'splunk_hec', label: 'Splunk HEC' },
  { value: 'datadog', label: 'Datadog logs' },
];

/** `Name: value` lines → headers; null for a line that is not one. */
function parseHeaders(text: string): Record<string, string> | null {
  const headers: Record<string, string> = {};
  for (const line of text.split('\n').map((l) => l.trim()).filter(Boolean)) {
    const i = line.indexOf(':');
    if (i <= 0) return null;
    headers[line.slice(0, i).trim()] = line.slice(i + 1).trim();
  }
  return headers;
}

export type RuleBody = Record<string, unknown>;

/**
 * Create or edit an alert rule. Secrets (webhook URL, signing secret, header values, CA)
 * are never shown back by the API: when editing, an empty field keeps what is stored.
 */
export function RuleForm({ rule, catalog, busy, onSubmit, onCancel }: { rule?: AlertRule; catalog: Catalog | undefined; busy: boolean; onSubmit: (body: RuleBody) => void; onCancel?: () => void }) {
  const [types, setTypes] = useState<string[]>(rule?.event_types ?? []);
  const [channelType, setChannelType] = useState<'webhook' | 'syslog'>(rule?.channel.type ?? 'webhook');
  const [error, setError] = useState<string | null>(null);
  const editing = rule !== undefined;
  const oldWebhook = rule?.channel.type === 'webhook' ? rule.channel : null;
  const oldSyslog = rule?.channel.type === 'syslog' ? rule.channel : null;
  const all = types.includes('*');
  const p = rule ? `rule-${rule.id}` : 'rule-new';

  const submit = (e: FormEvent<HTMLFormElement>): void => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const get = (k: string): string => String(f.get(k) ?? '').trim();
    const name = get('name');
    if (!name) return setError('Enter a name.');
    if (types.length === 0) return setError('Choose at least one event type (or all events).');
    const channel: Record<string, unknown> = {};
    const switching = editing && channelType !== rule.channel.type;
    if (!editing || switching) channel.type = channelType;
    if (channelType === 'webhook') {
      const url = get('url');
      if ((!editing || switching) && !url) return setError('Enter the webhook URL.');
      if (url) {
        if (!/^https?:\/\//i.test(url)) return setError('The webhook URL must start with https:// (or http://).');
        channel.url = url;
      }
      const format = get('format');
      if (!oldWebhook || format !== oldWebhook.format) channel.format = format;
      const secret = String(f.get('secret') ?? '');
      if (f.get('remove_secret') === 'on') channel.secret = null;
      else if (secret) {
        if (secret.length < 16) return setError('The signing secret needs at least 16 characters.');
        channel.secret = secret;
      }
      const headersText = get('headers');
      if (headersText) {
        const headers = parseHeaders(headersText);
        if (!headers) return setError('Write each extra header as “Name: value” on its own line.');
        channel.headers = headers;
      }
    } else {
      const host = get('host');
      const port = Number(get('port'));
      if (!host) return setError('Enter the syslog host.');
      if (!Number.isInteger(port) || port < 1 || port > 65535) return setError('Enter a port from 1 to 65535.');
      const tls = f.get('tls') === 'on';
      const appName = get('app_name') || 'trailmark';
      if (!oldSyslog || host !== oldSyslog.host) channel.host = host;
      if (!oldSyslog || port !== oldSyslog.port) channel.port = port;
      if (!oldSyslog || tls !== oldSyslog.tls) channel.tls = tls;
      if (!oldSyslog || appName !== oldSyslog.app_name) channel.app_name = appName;
      const ca = get('ca');
      if (ca) channel.ca = ca;
    }
    const minSeverity = get('min_severity') as Severity;
    const enabled = f.get('enabled') === 'on';
    setError(null);
    if (!editing) return onSubmit({ name, event_types: types, min_severity: minSeverity, enabled, channel });
    const body: RuleBody = {};
    if (name !== rule.name) body.name = name;
    if (JSON.stringify(types) !== JSON.stringify(rule.event_types)) body.event_types = types;
    if (minSeverity !== rule.min_severity) body.min_severity = minSeverity;
    if (enabled !== rule.enabled) body.enabled = enabled;
    if (Object.keys(channel).length > 0) body.channel = channel;
    if (Object.keys(body).length === 0) return setError('Nothing changed.');
    onSubmit(body);
  };

  return (
    <form className="rule-form" onSubmit={submit} noValidate aria-label={editing ? `Edit ${rule.name}` : 'New alert rule'}>
      <div className="form-grid">
        <label className="field">
          <span>Rule name</span>
          <input name="name" defaultValue={rule?.name} maxLength={128} required />
        </label>
        <div className="field">
          <EventTypePicker catalog={catalog} selected={all ? [] : types} onChange={setTypes} label="Event types" emptyText={all ? 'All events' : 'Choose…'} />
          <label className="check">
            <input type="checkbox" checked={all} onChange={(e) => setTypes(e.target.checked ? ['*'] : [])} /> All events <code>*</code>
          </label>
          {!all && types.length > 0 && <span className="hint">{types.join(', ')}</span>}
        </div>
        <label className="field">
          <span>Minimum severity</span>
          <select name="min_severity" defaultValue={rule?.min_severity ?? 'info'}>
            {SEVERITIES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label className="check toggle">
          <input type="checkbox" name="enabled" defaultChecked={rule?.enabled ?? true} /> Enabled
        </label>
        <label className="field">
          <span>Channel</span>
          <select value={channelType} onChange={(e) => setChannelType(e.target.value as 'webhook' | 'syslog')}>
            <option value="webhook">Webhook (HTTPS POST)</option>
            <option value="syslog">Syslog (RFC 5424 over TCP/TLS)</option>
          </select>
        </label>
      </div>
      {channelType === 'webhook' ? (
        <fieldset className="form-grid channel">
          <legend>Webhook</legend>
          <label className="field grow">
            <span>Webhook URL</span>
            <input name="url" type="url" maxLength={2048} placeholder={oldWebhook ? `Unchanged: ${oldWebhook.url}` : 'https://siem.example/hook'} aria-describedby={`${p}-url-hint`} />
            <span className="hint" id={`${p}-url-hint`}>
              Query values and credentials are never shown again{oldWebhook ? '; leave empty to keep the stored URL' : ''}.
            </span>
          </label>
          <label className="field">
            <span>Payload format</span>
            <select name="format" defaultValue={oldWebhook?.format ?? 'generic'}>
              {FORMATS.map((fm) => (
                <option key={fm.value} value={fm.value}>
                  {fm.label}
                </option>
              ))}
            </select>
          </label>
          <label className="field">
            <span>Signing secret (optional)</span>
            <input name="secret" type="password" autoComplete="off" minLength={16} maxLength={256} placeholder={oldWebhook?.has_secret ? 'Unchanged (set)' : 'At least 16 characters'} />
          </label>
          {oldWebhook?.has_secret && (
            <label className="check">
              <input type="checkbox" name="remove_secret" /> Remove the signing secret
            </label>
          )}
          <label className="field grow">
            <span>Extra headers (optional)</span>
            <textarea name="headers" rows={2} placeholder={oldWebhook?.header_names.length ? `Unchanged: ${oldWebhook.header_names.join(', ')}` : 'Authorization: Splunk <token>'} />
          </label>
        </fieldset>
      ) : (
        <fieldset className="form-grid channel">
          <legend>Syslog</legend>
          <label className="field">
            <span>Host</span>
            <input name="host" defaultValue={oldSyslog?.host} maxLength={253} />
          </label>
          <label className="field">
            <span>Port</span>
            <input name="port" type="number" min={1} max={65535} defaultValue={oldSyslog?.port ?? 6514} />
          </label>
          <label className="check toggle">
            <input type="checkbox" name="tls" defaultChecked={oldSyslog?.tls ?? true} /> TLS
          </label>
          <label className="field">
            <span>APP-NAME</span>
            <input name="app_name" defaultValue={oldSyslog?.app_name ?? 'trailmark'} maxLength={48} />
          </label>
          <label className="field grow">
            <span>Private CA certificate (PEM, optional)</span>
            <textarea name="ca" rows={2} placeholder={oldSyslog?.has_ca ? 'Unchanged (set)' : '-----BEGIN CERTIFICATE-----'} />
          </label>
        </fieldset>
      )}
      {error && <Notice kind="error">{error}</Notice>}
      <div className="form-actions">
        <button type="submit" className="button primary" disabled={busy}>
          {editing ? 'Save rule' : 'Create rule'}
        </button>
        {onCancel && (
          <button type="button" className="button" onClick={onCancel}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}

import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { useMe } from '../auth/session';
import { api, messageOf } from '../lib/api';
import { local } from '../lib/format';
import type { AlertRule, Catalog, Deliveries } from '../lib/types';
import { canManage } from '../lib/types';
import { ConfirmAction } from '../ui/confirm-action';
import { LoadState, Notice, ResultNotice } from '../ui/notice';
import { Page } from '../ui/page';
import { useAction } from '../ui/use-action';
import type { RuleBody } from './rule-form';
import { RuleForm } from './rule-form';

function channelSummary(rule: AlertRule): string {
  const c = rule.channel;
  if (c.type === 'webhook') return `Webhook ${c.url} (${c.format}${c.has_secret ? ', signed' : ''}${c.header_names.length ? `, headers: ${c.header_names.join(', ')}` : ''})`;
  return `Syslog ${c.host}:${c.port}${c.tls ? ' over TLS' : ''} as ${c.app_name}`;
}

/** Delivery health and the latest deliveries of one rule. */
function DeliveriesPanel({ rule }: { rule: AlertRule }) {
  const q = useQuery({ queryKey: ['deliveries', rule.id], queryFn: ({ signal }) => api<Deliveries>('GET', `/api/alert-rules/${rule.id}/deliveries?limit=20`, undefined, signal), refetchInterval: 10_000 });
  if (q.isPending) return <p role="status">Loading deliveries…</p>;
  if (q.isError) return <Notice kind="error">Could not load deliveries: {messageOf(q.error)}</Notice>;
  const { health, deliveries } = q.data;
  return (
    <div className="deliveries">
      <p>
        <strong>{health.delivered}</strong> delivered · <strong>{health.pending}</strong> pending · <strong>{health.dead}</strong> given up
        {health.consecutive_failures > 0 && <span className="badge sev-error"> {health.consecutive_failures} failures in a row</span>}
        {health.last_success_at && <span className="muted"> · last success {local(health.last_success_at)}</span>}
      </p>
      {health.last_error && <Notice kind="warning">Last error: {health.last_error}</Notice>}
      {deliveries.length === 0 ? (
        <p className="muted">No deliveries yet.</p>
      ) : (
        <div className="table-wrap">
          <table className="plain-table stack-on-mobile">
            <caption className="sr-only">Recent deliveries of {rule.name}</caption>
            <thead>
              <tr>
                <th scope="col">Entry</th>
                <th scope="col">Status</th>
                <th scope="col">Attempts</th>
                <th scope="col">Created</th>
                <th scope="col">Result</th>
              </tr>
            </thead>
            <tbody>
              {deliveries.map((d) => (
                <tr key={d.delivery_id}>
                  <td data-label="Entry">seq {d.entry_seq}</td>
                  <td data-label="Status">
                    <span className={`badge ${d.status === 'delivered' ? 'sev-info' : d.status === 'dead' ? 'sev-error' : 'sev-warning'}`}>{d.status}</span>
                  </td>
                  <td data-label="Attempts">{d.attempts}</td>
                  <td data-label="Created">{d.created_at.slice(0, 19).replace('T', ' ')}</td>
                  <td data-label="Result">{d.last_error ?? (d.last_status !== null ? `HTTP ${d.last_status}` : '—')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

function RuleCard({ rule, manage, catalog, action }: { rule: AlertRule; manage: boolean; catalog: Catalog | undefined; action: ReturnType<typeof useAction> }) {
  const [mode, setMode] = useState<'view' | 'edit'>('view');
  const [showDeliveries, setShowDeliveries] = useState(false);
  const test = async (): Promise<void> => {
    let outcome: { delivered: boolean; status: number | null; error: string | null } | null = null;
    const ok = await action.run(async () => {
      outcome = await api<{ delivered: boolean; status: number | null; error: string | null }>('POST', `/api/alert-rules/${rule.id}/test`);
      if (!outcome.delivered) throw new Error(`The test event to ${rule.name} was not delivered: ${outcome.error ?? `HTTP ${outcome.status ?? '—'}`}`);
    }, `Test event delivered to ${rule.name}.`);
    if (ok) setShowDeliveries(true);
  };
  return (
    <article className="card rule" aria-labelledby={`rule-${rule.id}`}>
      <div className="rule-head">
        <h3 id={`rule-${rule.id}`}>{rule.name}</h3>
        <span className={`badge ${rule.enabled ? 'sev-info' : 'sev-warning'}`}>{rule.enabled ? 'enabled' : 'disabled'}</span>
      </div>
      {mode === 'edit' ? (
        <RuleForm
          rule={rule}
          catalog={catalog}
          busy={action.busy}
          onCancel={() => setMode('view')}
          onSubmit={(body: RuleBody) => void action.run(() => api('PATCH', `/api/alert-rules/${rule.id}`, body), `Rule ${typeof body.name === 'string' ? body.name : rule.name} saved.`).then((ok) => ok && setMode('view'))}
        />
      ) : (
        <>
          <dl className="meta-list">
            <dt>Event types</dt>
            <dd>{rule.event_types.map((t) => <code key={t}>{t} </code>)}</dd>
            <dt>Minimum severity</dt>
            <dd>
              <span className={`badge sev-${rule.min_severity}`}>{rule.min_severity}</span>
            </dd>
            <dt>Channel</dt>
            <dd className="break">{channelSummary(rule)}</dd>
            <dt>Created</dt>
            <dd>
              by {rule.created_by}, <span title={local(rule.created_at)}>{rule.created_at.slice(0, 10)}</span>
            </dd>
          </dl>
          <div className="row-actions wrap">
            {manage && mode === 'view' && (
              <>
                <button type="button" className="button small" onClick={() => setMode('edit')}>
                  Edit
                </button>
                <button type="button" className="button small" disabled={action.busy} onClick={() => void action.run(() => api('PATCH', `/api/alert-rules/${rule.id}`, { enabled: !rule.enabled }), `Rule ${rule.name} ${rule.enabled ? 'disabled' : 'enabled'}.`)}>
                  {rule.enabled ? 'Disable' : 'Enable'}
                </button>
                <button type="button" className="button small" disabled={action.busy} onClick={() => void test()}>
                  Send test event
                </button>
                <ConfirmAction
                  label="Delete"
                  question={`Delete ${rule.name}?`}
                  confirmLabel="Yes, delete"
                  groupLabel={`Confirm deleting ${rule.name}`}
                  busy={action.busy}
                  onConfirm={() => action.run(() => api('DELETE', `/api/alert-rules/${rule.id}`), `Rule ${rule.name} deleted.`)}
                />
              </>
            )}
            <button type="button" className="button small" aria-expanded={showDeliveries} onClick={() => setShowDeliveries((s) => !s)}>
              Recent deliveries
            </button>
          </div>
          {showDeliveries && <DeliveriesPanel rule={rule} />}
        </>
      )}
    </article>
  );
}

export function AlertRulesPage() {
  const me = useMe();
  const manage = canManage(me);
  const rules = useQuery({ queryKey: ['alert-rules'], queryFn: ({ signal }) => api<{ rules: AlertRule[] }>('GET', '/api/alert-rules', undefined, signal).then((r) => r.rules) });
  const catalog = useQuery({ queryKey: ['catalog'], queryFn: ({ signal }) => api<Catalog>('GET', '/api/audit/catalog', undefined, signal), staleTime: Infinity });
  const action = useAction(['alert-rules', 'deliveries']);
  const [creating, setCreating] = useState(false);

  return (
    <Page
      title="Alert rules"
      actions={
        manage && !creating ? (
          <button type="button" className="button primary" onClick={() => setCreating(true)}>
            New rule
          </button>
        ) : null
      }
    >
      <p className="muted">Each rule forwards the audit entries of the chosen event types (at or above a severity) to a webhook or a syslog receiver, for a SIEM.</p>
      <ResultNotice result={action.result} onDismiss={action.clear} />
      {creating && (
        <section className="card" aria-labelledby="new-rule">
          <h2 id="new-rule">New alert rule</h2>
          <RuleForm catalog={catalog.data} busy={action.busy} onCancel={() => setCreating(false)} onSubmit={(body) => void action.run(() => api('POST', '/api/alert-rules', body), `Rule ${String(body.name)} created.`).then((ok) => ok && setCreating(false))} />
        </section>
      )}
      <LoadState query={rules} what="alert rules" />
      {rules.data?.length === 0 && !creating && <p className="placeholder empty">No alert rules yet.</p>}
      <div className="rule-list">
        {rules.data?.map((r) => (
          <RuleCard key={r.id} rule={r} manage={manage} catalog={catalog.data} action={action} />
        ))}
      </div>
    </Page>
  );
}

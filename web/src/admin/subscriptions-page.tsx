import type { FormEvent } from 'react';
import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { useMe } from '../auth/session';
import { api } from '../lib/api';
import { local } from '../lib/format';
import type { Subscription } from '../lib/types';
import { canManage } from '../lib/types';
import { ConfirmAction } from '../ui/confirm-action';
import { LoadState, Notice, ResultNotice } from '../ui/notice';
import { Page } from '../ui/page';
import { useAction } from '../ui/use-action';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function SubscriptionsPage() {
  const me = useMe();
  const manage = canManage(me);
  const subs = useQuery({ queryKey: ['subscriptions'], queryFn: ({ signal }) => api<{ subscriptions: Subscription[] }>('GET', '/api/subscriptions', undefined, signal).then((r) => r.subscriptions) });
  const action = useAction(['subscriptions']);
  const [formError, setFormError] = useState<string | null>(null);

  const add = async (e: FormEvent<HTMLFormElement>): Promise<void> => {
    e.preventDefault();
    const formEl = e.currentTarget;
    const form = new FormData(formEl);
    const id = String(form.get('subscription_id') ?? '').trim();
    const name = String(form.get('display_name') ?? '').trim();
    if (!GUID.test(id)) return setFormError('A subscription ID is a GUID such as 0f8fad5b-d9cb-469f-a165-70867728950e.');
    setFormError(null);
    if (await action.run(() => api('POST', '/api/subscriptions', { subscription_id: id, ...(name ? { display_name: name } : {}) }), `Subscription ${name || id} added.`)) formEl.reset();
  };

  return (
    <Page title="Subscriptions">
      <p className="muted">Cloud subscriptions that discovery watches. Adding and removing them is audited.</p>
      <ResultNotice result={action.result} onDismiss={action.clear} />
      {manage && (
        <section className="card" aria-labelledby="add-sub">
          <h2 id="add-sub">Add a subscription</h2>
          <form className="inline-form" onSubmit={(e) => void add(e)} noValidate>
            <label className="field grow">
              <span>Subscription ID</span>
              <input name="subscription_id" maxLength={64} placeholder="GUID" required />
            </label>
            <label className="field grow">
              <span>Display name (optional)</span>
              <input name="display_name" maxLength={256} />
            </label>
            <div className="field end">
              <button type="submit" className="button primary" disabled={action.busy}>
                Add subscription
              </button>
            </div>
          </form>
          {formError && <Notice kind="error">{formError}</Notice>}
        </section>
      )}
      <section className="card" aria-labelledby="sub-list">
        <h2 id="sub-list">Watched subscriptions</h2>
        <LoadState query={subs} what="subscriptions" />
        {subs.data?.length === 0 && <p className="muted">No subscriptions yet.</p>}
        {subs.data && subs.data.length > 0 && (
          <div className="table-wrap">
            <table className="plain-table stack-on-mobile">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Subscription ID</th>
                  <th scope="col">Added</th>
                  {manage && (
                    <th scope="col">
                      <span className="sr-only">Actions</span>
                    </th>
                  )}
                </tr>
              </thead>
              <tbody>
                {subs.data.map((s) => (
                  <tr key={s.subscription_id}>
                    <th scope="row">{s.display_name ?? '—'}</th>
                    <td data-label="Subscription ID">
                      <code className="break">{s.subscription_id}</code>
                    </td>
                    <td data-label="Added">
                      <span title={local(s.created_at)}>{s.created_at.slice(0, 10)}</span> <span className="muted small">by {s.added_by}</span>
                    </td>
                    {manage && (
                      <td className="row-actions">
                        <ConfirmAction
                          label="Remove"
                          question="Stop watching?"
                          confirmLabel="Yes, remove"
                          groupLabel={`Confirm removing ${s.display_name ?? s.subscription_id}`}
                          busy={action.busy}
                          onConfirm={() => action.run(() => api('DELETE', `/api/subscriptions/${s.subscription_id}`), `Subscription ${s.display_name ?? s.subscription_id} removed.`)}
                        />
                      </td>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </Page>
  );
}

import type { FormEvent } from 'react';
import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { api } from '../lib/api';
import { local } from '../lib/format';
import type { ApiToken } from '../lib/types';
import { ConfirmAction } from '../ui/confirm-action';
import { LoadState, Notice, ResultNotice } from '../ui/notice';
import { Page } from '../ui/page';
import { useAction } from '../ui/use-action';

const SCOPES = [
  { scope: 'audit:write', help: 'send events (workers)' },
  { scope: 'audit:read', help: 'read and search the log (SIEM polling)' },
] as const;

export function TokensPage() {
  const tokens = useQuery({ queryKey: ['tokens'], queryFn: ({ signal }) => api<{ tokens: ApiToken[] }>('GET', '/api/tokens', undefined, signal).then((r) => r.tokens) });
  const action = useAction(['tokens']);
  const [created, setCreated] = useState<{ name: string; token: string } | null>(null);
  const [formError, setFormError] = useState<string | null>(null);

  const create = async (e: FormEvent<HTMLFormElement>): Promise<void> => {
    e.preventDefault();
    const formEl = e.currentTarget;
    const form = new FormData(formEl);
    const name = String(form.get('name') ?? '').trim();
    const scopes = form.getAll('scopes').map(String);
    if (!name) return setFormError('Enter a name for the token.');
    if (scopes.length === 0) return setFormError('Choose at least one scope.');
    setFormError(null);
    setCreated(null);
    await action.run(async () => {
      const r = await api<{ token: string; name: string }>('POST', '/api/tokens', { name, scopes });
      setCreated({ name: r.name, token: r.token });
      formEl.reset();
    }, `Token ${name} created.`);
  };

  return (
    <Page title="API tokens">
      <ResultNotice result={action.result} onDismiss={action.clear} />
      {created && (
        <div className="card secret-once" role="region" aria-label="New token">
          <p>
            <strong>Copy the token for {created.name} now.</strong> It is shown only once; Trailmark keeps just its hash.
          </p>
          <p className="hash-line">
            <code className="hash" data-testid="new-token">
              {created.token}
            </code>
            <button type="button" className="button small" onClick={() => void navigator.clipboard?.writeText(created.token)}>
              Copy token
            </button>
          </p>
          <button type="button" className="link-button" onClick={() => setCreated(null)}>
            I have stored it — hide
          </button>
        </div>
      )}
      <section className="card" aria-labelledby="create-token">
        <h2 id="create-token">Create a token</h2>
        <form className="inline-form" onSubmit={(e) => void create(e)} noValidate>
          <label className="field">
            <span>Token name</span>
            <input name="name" maxLength={128} placeholder="e.g. rotation-worker" required />
          </label>
          <fieldset className="field">
            <legend className="field-label">Scopes</legend>
            <div className="checks">
              {SCOPES.map((s) => (
                <label key={s.scope} className="check">
                  <input type="checkbox" name="scopes" value={s.scope} defaultChecked={s.scope === 'audit:write'} />
                  <code>{s.scope}</code> <span className="muted small">{s.help}</span>
                </label>
              ))}
            </div>
          </fieldset>
          <div className="field end">
            <button type="submit" className="button primary" disabled={action.busy}>
              Create token
            </button>
          </div>
        </form>
        {formError && <Notice kind="error">{formError}</Notice>}
      </section>
      <section className="card" aria-labelledby="token-list">
        <h2 id="token-list">Tokens</h2>
        <LoadState query={tokens} what="tokens" />
        {tokens.data?.length === 0 && <p className="muted">No API tokens yet.</p>}
        {tokens.data && tokens.data.length > 0 && (
          <div className="table-wrap">
            <table className="plain-table stack-on-mobile">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Scopes</th>
                  <th scope="col">Created</th>
                  <th scope="col">Last used</th>
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {tokens.data.map((t) => (
                  <tr key={t.id} className={t.revoked_at ? 'revoked' : undefined}>
                    <th scope="row">{t.name}</th>
                    <td data-label="Scopes">{t.scopes.map((s) => <code key={s}>{s} </code>)}</td>
                    <td data-label="Created">
                      <span title={local(t.created_at)}>{t.created_at.slice(0, 10)}</span> <span className="muted small">by {t.created_by ?? '—'}</span>
                    </td>
                    <td data-label="Last used">{t.last_used_at ? <span title={local(t.last_used_at)}>{t.last_used_at.slice(0, 16).replace('T', ' ')}</span> : 'never'}</td>
                    <td className="row-actions">
                      {t.revoked_at ? (
                        <span className="badge sev-warning">revoked {t.revoked_at.slice(0, 10)}</span>
                      ) : (
                        <ConfirmAction
                          label="Revoke"
                          question={`Revoke ${t.name}?`}
                          confirmLabel="Yes, revoke"
                          groupLabel={`Confirm revoking ${t.name}`}
                          busy={action.busy}
                          onConfirm={() => action.run(() => api('DELETE', `/api/tokens/${t.id}`), `Token ${t.name} revoked.`)}
                        />
                      )}
                    </td>
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

import type { FormEvent } from 'react';
import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { useMe } from '../auth/session';
import { api } from '../lib/api';
import { local, utc } from '../lib/format';
import type { Role, User } from '../lib/types';
import { ROLES } from '../lib/types';
import { ConfirmAction } from '../ui/confirm-action';
import { LoadState, Notice, ResultNotice } from '../ui/notice';
import { Page } from '../ui/page';
import { useAction } from '../ui/use-action';

const ROLE_HELP: Record<Role, string> = {
  admin: 'everything, including users, settings, tokens and export',
  auditor: 'reads the audit log (exports when allowed in Settings)',
  operator: 'reads the audit log, manages subscriptions and alert rules',
  viewer: 'reads the audit log',
};

function CreateUser({ onCreate, busy }: { onCreate: (body: { username: string; password: string; role: Role }) => Promise<boolean>; busy: boolean }) {
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: FormEvent<HTMLFormElement>): Promise<void> => {
    e.preventDefault();
    const formEl = e.currentTarget;
    const form = new FormData(formEl);
    const username = String(form.get('username') ?? '').trim();
    const password = String(form.get('password') ?? '');
    if (!username) return setError('Enter a username.');
    if (password.length < 12) return setError('The password needs at least 12 characters.');
    setError(null);
    if (await onCreate({ username, password, role: String(form.get('role')) as Role })) formEl.reset();
  };
  return (
    <section className="card" aria-labelledby="create-user">
      <h2 id="create-user">Create a user</h2>
      <form className="inline-form" onSubmit={(e) => void submit(e)} noValidate>
        <label className="field">
          <span>New username</span>
          <input name="username" autoComplete="off" maxLength={64} required />
        </label>
        <label className="field">
          <span>Initial password</span>
          <input name="password" type="password" autoComplete="new-password" minLength={12} maxLength={1024} required aria-describedby="pw-hint" />
          <span className="hint" id="pw-hint">
            At least 12 characters.
          </span>
        </label>
        <label className="field">
          <span>Role</span>
          <select name="role" defaultValue="viewer">
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {r} — {ROLE_HELP[r]}
              </option>
            ))}
          </select>
        </label>
        <div className="field end">
          <button type="submit" className="button primary" disabled={busy}>
            Create user
          </button>
        </div>
      </form>
      {error && <Notice kind="error">{error}</Notice>}
    </section>
  );
}

function UserRow({ user, self, run, busy }: { user: User; self: boolean; run: ReturnType<typeof useAction>['run']; busy: boolean }) {
  const [mode, setMode] = useState<'idle' | 'password'>('idle');
  const patch = (body: Record<string, unknown>, done: string) => run(() => api('PATCH', `/api/users/${user.id}`, body), done);
  const resetPassword = async (e: FormEvent<HTMLFormElement>): Promise<void> => {
    e.preventDefault();
    const password = String(new FormData(e.currentTarget).get('password') ?? '');
    if (await patch({ password }, `Password of ${user.username} reset; their sessions ended.`)) setMode('idle');
  };
  return (
    <tr>
      <th scope="row">
        {user.username}
        {self && <span className="muted small"> (you)</span>}
      </th>
      <td data-label="Role">
        <select aria-label={`Role of ${user.username}`} value={user.role} disabled={busy} onChange={(e) => void patch({ role: e.target.value }, `${user.username} is now ${e.target.value}.`)}>
          {ROLES.map((r) => (
            <option key={r} value={r}>
              {r}
            </option>
          ))}
        </select>
      </td>
      <td data-label="Status">
        {user.disabled ? <span className="badge sev-warning">disabled</span> : user.locked_until ? <span className="badge sev-critical" title={local(user.locked_until)}>locked until {utc(user.locked_until)}</span> : <span className="badge sev-info">active</span>}
      </td>
      <td data-label="Created">
        <time dateTime={user.created_at} title={local(user.created_at)}>
          {user.created_at.slice(0, 10)}
        </time>
      </td>
      <td className="row-actions">
        {mode === 'idle' && (
          <>
            {user.locked_until && (
              <button type="button" className="button small" disabled={busy} onClick={() => void patch({ unlock: true }, `${user.username} is unlocked.`)}>
                Unlock
              </button>
            )}
            <button type="button" className="button small" disabled={busy} onClick={() => setMode('password')}>
              Reset password
            </button>
            <button type="button" className="button small" disabled={busy} onClick={() => void patch({ disabled: !user.disabled }, `${user.username} is ${user.disabled ? 'enabled' : 'disabled'}.`)}>
              {user.disabled ? 'Enable' : 'Disable'}
            </button>
            <ConfirmAction
              label="Delete"
              question={`Delete ${user.username}?`}
              confirmLabel="Yes, delete"
              groupLabel={`Confirm deleting ${user.username}`}
              busy={busy}
              disabled={busy || self}
              onConfirm={() => run(() => api('DELETE', `/api/users/${user.id}`), `${user.username} was deleted.`)}
            />
          </>
        )}
        {mode === 'password' && (
          <form className="row-form" onSubmit={(e) => void resetPassword(e)}>
            <input name="password" type="password" aria-label={`New password for ${user.username}`} minLength={12} required autoComplete="new-password" autoFocus />
            <button type="submit" className="button small primary" disabled={busy}>
              Save password
            </button>
            <button type="button" className="button small" onClick={() => setMode('idle')}>
              Cancel
            </button>
          </form>
        )}
      </td>
    </tr>
  );
}

export function UsersPage() {
  const me = useMe();
  const users = useQuery({ queryKey: ['users'], queryFn: ({ signal }) => api<{ users: User[] }>('GET', '/api/users', undefined, signal).then((r) => r.users) });
  const action = useAction(['users']);
  return (
    <Page title="Users">
      <ResultNotice result={action.result} onDismiss={action.clear} />
      <CreateUser busy={action.busy} onCreate={(body) => action.run(() => api('POST', '/api/users', body), `User ${body.username} created as ${body.role}.`)} />
      <section className="card" aria-labelledby="user-list">
        <h2 id="user-list">Users</h2>
        <LoadState query={users} what="users" />
        {users.data && (
          <div className="table-wrap">
            <table className="plain-table stack-on-mobile">
              <thead>
                <tr>
                  <th scope="col">Username</th>
                  <th scope="col">Role</th>
                  <th scope="col">Status</th>
                  <th scope="col">Created</th>
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {users.data.map((u) => (
                  <UserRow key={u.id} user={u} self={u.id === me.id} run={action.run} busy={action.busy} />
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </Page>
  );
}

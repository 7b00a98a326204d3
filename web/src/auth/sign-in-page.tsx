import type { FormEvent } from 'react';
import { useEffect, useRef, useState } from 'react';
import { ApiError, messageOf } from '../lib/api';
import { local, utc } from '../lib/format';
import { Notice } from '../ui/notice';
import { useSession } from './session';

/** Explains a failed sign-in in words a person can act on. */
function explain(err: unknown): string {
  if (!(err instanceof ApiError)) return messageOf(err);
  if (err.status === 401) return 'Wrong username or password.';
  if (err.status === 423) {
    const until = (err.details as { locked_until?: string } | undefined)?.locked_until;
    return until
      ? `This account is locked after too many failed sign-ins. It unlocks at ${utc(until)} (${local(until)}), or when an admin unlocks it.`
      : err.message;
  }
  if (err.status === 429) {
    const wait = err.retryAfterSeconds;
    return `Too many sign-in attempts from this address. Try again ${wait ? `in ${wait} seconds` : 'in a minute'}.`;
  }
  return err.message;
}

export function SignInPage() {
  const { signIn, endedMessage } = useSession();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const username = useRef<HTMLInputElement>(null);

  useEffect(() => {
    document.title = 'Sign in · Trailmark';
    username.current?.focus();
  }, []);

  const submit = async (e: FormEvent<HTMLFormElement>): Promise<void> => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    setBusy(true);
    setError(null);
    try {
      await signIn(String(form.get('username') ?? ''), String(form.get('password') ?? ''));
    } catch (err) {
      setError(explain(err));
      setBusy(false);
    }
  };

  return (
    <main className="sign-in" id="main">
      <form className="card sign-in-card" onSubmit={(e) => void submit(e)} aria-labelledby="sign-in-title">
        <p className="brand brand-large" aria-hidden="true">
          <span className="brand-mark">◆</span> Trailmark
        </p>
        <h1 id="sign-in-title">Sign in</h1>
        {endedMessage && !error && <Notice kind="info">{endedMessage}</Notice>}
        {error && <Notice kind="error">{error}</Notice>}
        <label className="field">
          <span>Username</span>
          <input ref={username} name="username" autoComplete="username" required maxLength={256} />
        </label>
        <label className="field">
          <span>Password</span>
          <input name="password" type="password" autoComplete="current-password" required maxLength={1024} />
        </label>
        <button type="submit" className="button primary wide" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}

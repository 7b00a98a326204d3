import type { ReactNode } from 'react';
import { messageOf } from '../lib/api';

/** A result message: success is announced politely, an error at once. */
export function Notice({ kind, children, onDismiss }: { kind: 'success' | 'error' | 'info' | 'warning'; children: ReactNode; onDismiss?: () => void }) {
  return (
    <div className={`notice notice-${kind}`} role={kind === 'error' ? 'alert' : 'status'}>
      <div className="notice-body">{children}</div>
      {onDismiss && (
        <button type="button" className="link-button" onClick={onDismiss} aria-label="Dismiss message">
          Dismiss
        </button>
      )}
    </div>
  );
}

export type Result = { kind: 'success' | 'error'; text: string } | null;

/** Shows the outcome of the last action on a page. */
export function ResultNotice({ result, onDismiss }: { result: Result; onDismiss: () => void }) {
  if (!result) return null;
  return (
    <Notice kind={result.kind} onDismiss={onDismiss}>
      {result.text}
    </Notice>
  );
}

/** What a page shows while a list loads or when it could not be loaded ("Loading users…"). */
export function LoadState({ query, what }: { query: { isPending: boolean; isError: boolean; error: unknown }; what: string }) {
  if (query.isPending) return <p role="status">Loading {what}…</p>;
  if (query.isError) return <Notice kind="error">Could not load {what}: {messageOf(query.error)}</Notice>;
  return null;
}

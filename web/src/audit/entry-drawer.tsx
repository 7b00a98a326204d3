import { useEffect, useRef, useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { api, messageOf } from '../lib/api';
import { actorLabel, local, pretty, utc } from '../lib/format';
import type { AuditEntry } from '../lib/types';
import { Notice } from '../ui/notice';

function CopyButton({ text, label }: { text: string; label: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <button
      type="button"
      className="button small"
      aria-label={`Copy ${label}`}
      onClick={() => {
        void navigator.clipboard?.writeText(text).then(() => {
          setCopied(true);
          setTimeout(() => setCopied(false), 1500);
        });
      }}
    >
      {copied ? 'Copied' : 'Copy'}
    </button>
  );
}

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex="0"]';

/** Keeps Tab inside a modal dialog. */
export function trapTab(e: KeyboardEvent, container: HTMLElement): void {
  const items = [...container.querySelectorAll<HTMLElement>(FOCUSABLE)];
  const first = items[0];
  const last = items[items.length - 1];
  if (!first || !last) return;
  if (e.shiftKey && (document.activeElement === first || !container.contains(document.activeElement))) {
    e.preventDefault();
    last.focus();
  } else if (!e.shiftKey && (document.activeElement === last || !container.contains(document.activeElement))) {
    e.preventDefault();
    first.focus();
  }
}

/**
 * One entry with what proves it: seq, hash and previous hash, and the raw JSON as the API
 * returns it. A dialog: focus moves in, Escape or Close closes it, focus goes back.
 */
export function EntryDrawer({ id, initial, onClose }: { id: string; initial: AuditEntry | undefined; onClose: () => void }) {
  const closeButton = useRef<HTMLButtonElement>(null);
  const dialog = useRef<HTMLElement>(null);
  const query = useQuery({
    queryKey: ['audit-entry', id],
    queryFn: ({ signal }) => api<AuditEntry>('GET', `/api/audit/${encodeURIComponent(id)}`, undefined, signal),
    initialData: initial,
    staleTime: Infinity,
  });
  const entry = query.data;

  useEffect(() => {
    closeButton.current?.focus();
    const onKey = (e: KeyboardEvent): void => {
      if (e.key === 'Escape') onClose();
      if (e.key === 'Tab' && dialog.current) trapTab(e, dialog.current);
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [onClose]);

  return (
    <div className="drawer-backdrop" onClick={onClose}>
      <aside ref={dialog} className="drawer" role="dialog" aria-modal="true" aria-labelledby="drawer-title" onClick={(e) => e.stopPropagation()}>
        <div className="drawer-head">
          <h2 id="drawer-title">{entry ? `Entry ${entry.seq}` : 'Entry'}</h2>
          <button ref={closeButton} type="button" className="button" onClick={onClose}>
            Close
          </button>
        </div>
        {query.isPending && <p role="status">Loading the entry…</p>}
        {query.isError && <Notice kind="error">{messageOf(query.error)}</Notice>}
        {entry && (
          <div className="drawer-body">
            <p className="drawer-summary">
              <span className={`badge sev-${entry.severity}`}>{entry.severity}</span> {entry.description}
            </p>
            <dl className="meta-list wide">
              <dt>Seq</dt>
              <dd data-testid="entry-seq">{entry.seq}</dd>
              <dt>ID</dt>
              <dd>
                <code>{entry.id}</code>
              </dd>
              <dt>Recorded</dt>
              <dd>
                <time dateTime={entry.ts} title={local(entry.ts)}>
                  {utc(entry.ts)}
                </time>
                <div className="muted small">{local(entry.ts)}</div>
              </dd>
              {entry.occurred_at && (
                <>
                  <dt>Occurred (producer)</dt>
                  <dd>{utc(entry.occurred_at)}</dd>
                </>
              )}
              <dt>Event type</dt>
              <dd>
                <code>{entry.action}</code> <span className="muted">({entry.category})</span>
              </dd>
              <dt>Actor</dt>
              <dd>
                {actorLabel(entry.actor)} <span className="muted">({entry.actor.type}{entry.actor.id ? `, ${entry.actor.id}` : ''})</span>
              </dd>
              <dt>Resource</dt>
              <dd>
                {entry.resource.type} <code>{entry.resource.id}</code> {entry.resource.name && <span>“{entry.resource.name}”</span>}
              </dd>
              <dt>Source</dt>
              <dd>
                {entry.source.ip ?? '—'}
                {entry.source.token_id && <div className="muted small">API token {entry.source.token_id}</div>}
                {entry.source.user_agent && <div className="muted small break">{entry.source.user_agent}</div>}
              </dd>
              {entry.request_id && (
                <>
                  <dt>Request</dt>
                  <dd>
                    <code className="break">{entry.request_id}</code>
                  </dd>
                </>
              )}
              <dt>Hash</dt>
              <dd className="hash-line">
                <code className="hash" data-testid="entry-hash">
                  {entry.hash}
                </code>
                <CopyButton text={entry.hash} label="hash" />
              </dd>
              <dt>Previous hash</dt>
              <dd className="hash-line">
                <code className="hash" data-testid="entry-prev-hash">
                  {entry.prev_hash}
                </code>
                <CopyButton text={entry.prev_hash} label="previous hash" />
              </dd>
            </dl>
            <p className="muted small">
              hash = SHA-256(previous hash ‖ canonical JSON of the entry). Each entry’s previous hash is the hash of the entry before it, so an edit, removal or insertion breaks the chain.
            </p>
            <h3 className="small-heading">Raw JSON</h3>
            <pre className="json" tabIndex={0} aria-label="Raw JSON of the entry" data-testid="entry-json">
              {pretty(entry)}
            </pre>
          </div>
        )}
      </aside>
    </div>
  );
}

import type { KeyboardEvent } from 'react';
import { useCallback, useId, useRef, useState } from 'react';
import { ApiError, messageOf, toQuery } from '../lib/api';
import { bytes } from '../lib/format';
import { useDismiss } from '../lib/use-dismiss';
import { Notice } from '../ui/notice';
import type { DownloadProgress } from './download';
import { download } from './download';

const FORMATS = [
  { format: 'csv', label: 'Hash-chained CSV', ext: 'csv' },
  { format: 'pdf', label: 'Evidence bundle (PDF)', ext: 'pdf' },
] as const;
type Format = (typeof FORMATS)[number]['format'];

type State =
  | { kind: 'idle' }
  | { kind: 'running'; format: Format; progress: DownloadProgress; abort: AbortController }
  | { kind: 'done'; name: string; size: number }
  | { kind: 'error'; text: string };

/**
 * The Export menu (only rendered for roles that may export): the current filters as a
 * hash-chained CSV or a PDF evidence bundle, with download progress.
 */
export function ExportMenu({ filter }: { filter: Record<string, string | readonly string[] | undefined> }) {
  const [open, setOpen] = useState(false);
  const [state, setState] = useState<State>({ kind: 'idle' });
  const box = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);
  const menuId = useId();
  const close = useCallback((refocus: boolean) => {
    setOpen(false);
    if (refocus) button.current?.focus();
  }, []);
  useDismiss(open, box, close);

  const urlFor = (format: Format): string => `/api/audit/export${toQuery({ format, ...filter })}`;

  const start = async (format: Format): Promise<void> => {
    close(true);
    const abort = new AbortController();
    const ext = FORMATS.find((f) => f.format === format)!.ext;
    setState({ kind: 'running', format, progress: { received: 0, total: null }, abort });
    try {
      const done = await download(urlFor(format), `trailmark-audit-${new Date().toISOString().slice(0, 10)}.${ext}`, (progress) => setState({ kind: 'running', format, progress, abort }), abort.signal);
      setState({ kind: 'done', ...done });
    } catch (err) {
      if (abort.signal.aborted) return setState({ kind: 'idle' });
      const text = err instanceof ApiError && err.status === 404 && err.code === 'not_found' && /No route/.test(err.message) ? 'This server does not offer exports yet.' : messageOf(err);
      setState({ kind: 'error', text: `Export failed: ${text}` });
    }
  };

  const onMenuKey = (e: KeyboardEvent<HTMLDivElement>): void => {
    const items = [...(e.currentTarget.querySelectorAll<HTMLElement>('[role="menuitem"]') ?? [])];
    const i = items.indexOf(document.activeElement as HTMLElement);
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      items[(i + (e.key === 'ArrowDown' ? 1 : items.length - 1)) % items.length]?.focus();
    } else if (e.key === 'Home' || e.key === 'End') {
      e.preventDefault();
      items[e.key === 'Home' ? 0 : items.length - 1]?.focus();
    } else if (e.key === 'Tab') {
      close(false);
    }
  };

  const running = state.kind === 'running' ? state : null;
  return (
    <div className="export">
      <div className="export-anchor" ref={box}>
      <button
        ref={button}
        type="button"
        className="button"
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={menuId}
        disabled={running !== null}
        onClick={() => setOpen((o) => !o)}
        onKeyDown={(e) => {
          if (e.key === 'ArrowDown' && !open) {
            e.preventDefault();
            setOpen(true);
            requestAnimationFrame(() => box.current?.querySelector<HTMLElement>('[role="menuitem"]')?.focus());
          }
        }}
      >
        Export <span aria-hidden="true">▾</span>
      </button>
      {open && (
        <div className="popover export-panel">
          <div role="menu" id={menuId} aria-label="Export format" onKeyDown={onMenuKey}>
            {FORMATS.map((f) => (
              <button key={f.format} type="button" role="menuitem" className="menu-item" onClick={() => void start(f.format)}>
                {f.label}
              </button>
            ))}
          </div>
          <div className="export-note small">
            <p>Exports the entries that match the current filters, oldest first.</p>
            <p>
              <strong>CSV:</strong> every row carries a SHA-256 chained from the row before; the last line is a manifest signed with this deployment’s key, so a changed, removed or added row is detected.
            </p>
            <p>
              <strong>PDF:</strong> a cover page (tenant, exporter, row count, CSV SHA-256), the same CSV attached verbatim, and an assertion page to sign.
            </p>
            <p>
              Verify either file with <code>npx trailmark verify FILE</code>. Very large export? Download directly (the browser shows progress):{' '}
              <a href={urlFor('csv')} download>
                CSV
              </a>{' '}
              ·{' '}
              <a href={urlFor('pdf')} download>
                PDF
              </a>
            </p>
          </div>
        </div>
      )}
      </div>
      <div className="export-status" aria-live="polite">
        {running && (
          <div className="notice notice-info" role="status">
            <div className="notice-body">
              Exporting {FORMATS.find((f) => f.format === running.format)!.label}… {bytes(running.progress.received)}
              {running.progress.total !== null && ` of ${bytes(running.progress.total)}`}
              <progress max={running.progress.total ?? undefined} value={running.progress.total !== null ? running.progress.received : undefined} aria-label="Export progress" />
            </div>
            <button type="button" className="link-button" onClick={() => running.abort.abort()}>
              Cancel
            </button>
          </div>
        )}
        {state.kind === 'done' && (
          <Notice kind="success" onDismiss={() => setState({ kind: 'idle' })}>
            Downloaded <strong>{state.name}</strong> ({bytes(state.size)}). Check it with <code>npx trailmark verify {state.name}</code>.
          </Notice>
        )}
        {state.kind === 'error' && (
          <Notice kind="error" onDismiss={() => setState({ kind: 'idle' })}>
            {state.text}
          </Notice>
        )}
      </div>
    </div>
  );
}

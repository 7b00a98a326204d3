import { useCallback, useMemo, useRef, useState } from 'react';
import type { ExpandedState } from '@tanstack/react-table';
import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query';
import { useMe } from '../auth/session';
import { api, messageOf, toQuery } from '../lib/api';
import { navigate, useLocation } from '../lib/router';
import type { AuditEntry, AuditPage as Page, Catalog } from '../lib/types';
import { mayExport } from '../lib/types';
import { Notice } from '../ui/notice';
import { Page as PageFrame } from '../ui/page';
import { AuditFilters } from './audit-filters';
import { AuditTable } from './audit-table';
import type { AuditView } from './audit-view';
import { EMPTY_FILTERS, apiFilter, hasFilters, readView, viewHref, withFilter } from './audit-view';
import { EntryDrawer } from './entry-drawer';
import { ExportMenu } from './export-menu';
import { useLiveEntries } from './use-live-entries';

const PAGE_SIZE = 50;
const NO_ENTRIES: AuditEntry[] = [];
const LIVE_LABEL = { off: '', connecting: 'Connecting…', live: 'Receiving new entries', reconnecting: 'Reconnecting…', failed: 'Live updates stopped (sign in again or reload)' } as const;

export function AuditPage() {
  const me = useMe();
  const { search } = useLocation();
  const view = useMemo(() => readView(search), [search]);
  const queryClient = useQueryClient();
  const [expanded, setExpanded] = useState<ExpandedState>({});
  const [live, setLive] = useState(false);
  /** Cursors of the pages before this one, for "Newer". */
  const [history, setHistory] = useState<Array<string | null>>([]);
  const opener = useRef<HTMLElement | null>(null);

  const go = useCallback((next: AuditView, replace = false) => navigate(viewHref(next), { replace }), []);
  const filter = useMemo(() => apiFilter(view), [view]);
  const filterQuery = toQuery(filter);

  const catalog = useQuery({ queryKey: ['catalog'], queryFn: ({ signal }) => api<Catalog>('GET', '/api/audit/catalog', undefined, signal), staleTime: Infinity });
  const page = useQuery({
    queryKey: ['audit', filterQuery, view.cursor],
    queryFn: ({ signal }) => api<Page>('GET', `/api/audit${toQuery({ ...filter, cursor: view.cursor ?? undefined, limit: PAGE_SIZE })}`, undefined, signal),
    placeholderData: keepPreviousData,
  });
  const total = useQuery({
    queryKey: ['audit-total', filterQuery],
    queryFn: ({ signal }) => api<Page>('GET', `/api/audit${toQuery({ ...filter, limit: 1, include_total: true })}`, undefined, signal),
    enabled: page.isSuccess,
    staleTime: 30_000,
  });

  const items = page.data?.items ?? NO_ENTRIES;
  const topSeq = view.cursor === null ? (items[0]?.seq ?? 0) : null;
  const liveOn = live && view.cursor === null;
  const refresh = useCallback(() => void queryClient.invalidateQueries({ queryKey: ['audit'] }), [queryClient]);
  const stream = useLiveEntries(liveOn && !page.isPlaceholderData && page.isSuccess, filterQuery, () => topSeq, refresh);

  const entries = useMemo(() => {
    if (!liveOn || stream.entries.length === 0) return items;
    const newer = stream.entries.filter((e) => e.seq > (items[0]?.seq ?? 0));
    return newer.length === 0 ? items : [...newer, ...items];
  }, [liveOn, stream.entries, items]);

  const change = (c: Partial<AuditView>, replace = false): void => {
    setHistory([]);
    setExpanded({});
    go(withFilter(view, c), replace);
  };
  const older = (): void => {
    if (!page.data?.next_cursor) return;
    setHistory((h) => [...h, view.cursor]);
    setExpanded({});
    go({ ...view, cursor: page.data.next_cursor, entry: null });
  };
  const newer = (): void => {
    const prev = history[history.length - 1];
    setHistory((h) => h.slice(0, -1));
    setExpanded({});
    go({ ...view, cursor: prev ?? null, entry: null });
  };
  const newest = (): void => {
    setHistory([]);
    go({ ...view, cursor: null, entry: null });
  };
  const open = useCallback(
    (entry: AuditEntry, from: HTMLElement) => {
      opener.current = from;
      go({ ...view, entry: entry.id });
    },
    [go, view],
  );
  const closeDrawer = useCallback(() => {
    go({ ...view, entry: null }, true);
    const back = opener.current;
    opener.current = null;
    requestAnimationFrame(() => back?.focus());
  }, [go, view]);

  const toggleLive = (): void => {
    if (!live && view.cursor !== null) newest();
    setLive((l) => !l);
  };

  const totalText = total.data?.total ? `${total.data.total.count.toLocaleString('en')}${total.data.total.capped ? '+' : ''} matching` : null;

  return (
    <PageFrame
      title="Audit log"
      actions={
        <>
          <button type="button" className={`button live-toggle${liveOn ? ' on' : ''}`} aria-pressed={live} onClick={toggleLive}>
            <span className="dot" aria-hidden="true" /> Live
          </button>
          {mayExport(me) && <ExportMenu filter={filter} />}
        </>
      }
    >
      <AuditFilters view={view} catalog={catalog.data} onChange={change} />
      {catalog.isError && <Notice kind="warning">The event catalog could not be loaded ({messageOf(catalog.error)}); event-type filtering is unavailable.</Notice>}

      <div className="result-bar">
        <p className="muted" aria-live="polite">
          {page.isSuccess && (items.length === 0 ? 'No entries' : `Showing ${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}${view.cursor ? ' (older page)' : ''}`)}
          {totalText && ` · ${totalText}`}
          {page.isFetching && !page.isPending && ' · Updating…'}
        </p>
        {live && (
          <p className={`live-status live-${stream.status}`} role="status">
            {view.cursor !== null ? 'Live shows the newest page.' : LIVE_LABEL[stream.status]}
          </p>
        )}
      </div>

      {page.isPending && (
        <div className="placeholder" role="status">
          Loading entries…
        </div>
      )}
      {page.isError && (
        <Notice kind="error">
          Could not load the audit log: {messageOf(page.error)}{' '}
          <button type="button" className="link-button" onClick={() => void page.refetch()}>
            Try again
          </button>
        </Notice>
      )}
      {page.isSuccess && entries.length === 0 && (
        <div className="placeholder empty">
          <p>{hasFilters(view) ? 'No entries match these filters.' : 'The audit log is empty.'}</p>
          {hasFilters(view) && (
            <button type="button" className="button" onClick={() => change(EMPTY_FILTERS)}>
              Clear filters
            </button>
          )}
        </div>
      )}
      {entries.length > 0 && !page.isError && <AuditTable entries={entries} expanded={expanded} onExpandedChange={setExpanded} onOpen={open} freshSeqs={stream.fresh} />}

      <nav className="pager" aria-label="Pages">
        <button type="button" className="button" onClick={newest} disabled={view.cursor === null}>
          Newest
        </button>
        <button type="button" className="button" onClick={newer} disabled={history.length === 0}>
          ← Newer
        </button>
        <button type="button" className="button" onClick={older} disabled={!page.data?.next_cursor || page.isPlaceholderData}>
          Older →
        </button>
      </nav>

      {view.entry && <EntryDrawer id={view.entry} initial={entries.find((e) => e.id === view.entry)} onClose={closeDrawer} />}
    </PageFrame>
  );
}

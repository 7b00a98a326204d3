import { useEffect, useRef, useState } from 'react';
import type { AuditEntry } from '../lib/types';

export type LiveStatus = 'off' | 'connecting' | 'live' | 'reconnecting' | 'failed';

const MAX_LIVE = 500;
const FRESH_MS = 5_000;
const NONE: AuditEntry[] = [];
const NO_SEQS: ReadonlySet<number> = new Set();

/**
 * New entries from `GET /api/audit/stream` while `enabled`: newest first, without repeats,
 * at most 500 (older ones are on the pages). `after()` gives the newest seq the page shows,
 * read at (re)connect so the server replays what was committed in between. On a `reset`
 * (too far behind, server stopping) the page is reloaded and the stream reconnects.
 */
export function useLiveEntries(enabled: boolean, query: string, after: () => number | null, onReset: () => void) {
  const [entries, setEntries] = useState<AuditEntry[]>(NONE);
  const [fresh, setFresh] = useState<ReadonlySet<number>>(NO_SEQS);
  const [status, setStatus] = useState<LiveStatus>('off');
  const [generation, setGeneration] = useState(0);
  const afterRef = useRef(after);
  afterRef.current = after;
  const resetRef = useRef(onReset);
  resetRef.current = onReset;

  useEffect(() => {
    setEntries(NONE);
    setFresh(NO_SEQS);
    if (!enabled) {
      setStatus('off');
      return;
    }
    setStatus('connecting');
    const since = afterRef.current();
    const sep = query ? '&' : '?';
    const source = new EventSource(`/api/audit/stream${query}${since === null ? '' : `${sep}after=${since}`}`, { withCredentials: true });
    const timers: number[] = [];

    source.addEventListener('ready', () => setStatus('live'));
    source.addEventListener('entry', (e) => {
      const entry = JSON.parse((e as MessageEvent<string>).data) as AuditEntry;
      setEntries((prev) => (prev.some((p) => p.seq === entry.seq) ? prev : [entry, ...prev].sort((a, b) => b.seq - a.seq).slice(0, MAX_LIVE)));
      setFresh((prev) => new Set(prev).add(entry.seq));
      timers.push(
        window.setTimeout(() => {
          setFresh((prev) => {
            const next = new Set(prev);
            next.delete(entry.seq);
            return next;
          });
        }, FRESH_MS),
      );
    });
    source.addEventListener('reset', () => {
      source.close();
      setStatus('reconnecting');
      resetRef.current();
      timers.push(window.setTimeout(() => setGeneration((g) => g + 1), 1_500));
    });
    source.onerror = () => setStatus(source.readyState === EventSource.CLOSED ? 'failed' : 'reconnecting');
    source.onopen = () => setStatus((s) => (s === 'live' ? s : 'connecting'));

    return () => {
      source.close();
      timers.forEach((t) => window.clearTimeout(t));
    };
  }, [enabled, query, generation]);

  return { entries, fresh, status };
}

import type { ActorType, Severity } from '../lib/types';
import { SEVERITIES } from '../lib/types';

export const QUICK_RANGES = [
  { key: '24h', label: '24 h', ms: 24 * 3600_000, name: 'Last 24 hours' },
  { key: '7d', label: '7 d', ms: 7 * 86400_000, name: 'Last 7 days' },
  { key: '30d', label: '30 d', ms: 30 * 86400_000, name: 'Last 30 days' },
  { key: '90d', label: '90 d', ms: 90 * 86400_000, name: 'Last 90 days' },
] as const;
export type QuickRange = (typeof QUICK_RANGES)[number]['key'];

/**
 * What the Audit tab shows, as it lives in the URL (so a view can be shared):
 * `/audit?range=7d&action=rotation.*&severity=error&q=billing&cursor=1234&entry=<id>`.
 */
export interface AuditView {
  readonly range: QuickRange | null;
  /** ISO times, used when no quick range is chosen. */
  readonly start: string | null;
  readonly end: string | null;
  readonly action: readonly string[];
  readonly actor: string;
  readonly actorType: ActorType | '';
  readonly severity: readonly Severity[];
  readonly resource: string;
  readonly q: string;
  /** next_cursor of the page before: where this page starts (null: the newest). */
  readonly cursor: string | null;
  /** The entry open in the drawer. */
  readonly entry: string | null;
}

const ACTOR_TYPES: readonly ActorType[] = ['user', 'worker', 'system'];
const isIso = (s: string | null): s is string => s !== null && !Number.isNaN(Date.parse(s));

export function readView(search: URLSearchParams): AuditView {
  const range = search.get('range');
  const actorType = search.get('actor_type') ?? '';
  const cursor = search.get('cursor');
  return {
    range: QUICK_RANGES.some((r) => r.key === range) ? (range as QuickRange) : null,
    start: isIso(search.get('start')) ? search.get('start') : null,
    end: isIso(search.get('end')) ? search.get('end') : null,
    action: [...new Set(search.getAll('action').filter(Boolean))],
    actor: search.get('actor') ?? '',
    actorType: (ACTOR_TYPES as readonly string[]).includes(actorType) ? (actorType as ActorType) : '',
    severity: SEVERITIES.filter((s) => search.getAll('severity').includes(s)),
    resource: search.get('resource') ?? '',
    q: search.get('q') ?? '',
    cursor: cursor && /^[1-9]\d{0,15}$/.test(cursor) ? cursor : null,
    entry: search.get('entry'),
  };
}

export function viewHref(view: AuditView): string {
  const q = new URLSearchParams();
  if (view.range) q.set('range', view.range);
  else {
    if (view.start) q.set('start', view.start);
    if (view.end) q.set('end', view.end);
  }
  view.action.forEach((a) => q.append('action', a));
  if (view.actor) q.set('actor', view.actor);
  if (view.actorType) q.set('actor_type', view.actorType);
  view.severity.forEach((s) => q.append('severity', s));
  if (view.resource) q.set('resource', view.resource);
  if (view.q) q.set('q', view.q);
  if (view.cursor) q.set('cursor', view.cursor);
  if (view.entry) q.set('entry', view.entry);
  const s = q.toString();
  return s ? `/audit?${s}` : '/audit';
}

/** A filter change starts again from the newest page. */
export function withFilter(view: AuditView, change: Partial<AuditView>): AuditView {
  return { ...view, ...change, cursor: null };
}

export const EMPTY_FILTERS: Partial<AuditView> = { range: null, start: null, end: null, action: [], actor: '', actorType: '', severity: [], resource: '', q: '' };

export function hasFilters(view: AuditView): boolean {
  return Boolean(view.range || view.start || view.end || view.action.length || view.actor || view.actorType || view.severity.length || view.resource || view.q);
}

/**
 * The filter as GET /api/audit (and the export and the live stream) take it. A quick range
 * becomes a start time rounded down to the minute, so the query stays the same while paging.
 */
export function apiFilter(view: AuditView, now = Date.now()): Record<string, string | readonly string[] | undefined> {
  const range = QUICK_RANGES.find((r) => r.key === view.range);
  const start = range ? new Date(Math.floor((now - range.ms) / 60_000) * 60_000).toISOString() : (view.start ?? undefined);
  // Search words are letters and digits; a box holding only punctuation filters nothing.
  const q = /[\p{L}\p{N}]/u.test(view.q) ? view.q.trim() : undefined;
  return {
    start,
    end: range ? undefined : (view.end ?? undefined),
    action: view.action.length ? view.action : undefined,
    actor: view.actor.trim() || undefined,
    actor_type: view.actorType || undefined,
    severity: view.severity.length ? view.severity : undefined,
    resource: view.resource.trim() || undefined,
    q,
  };
}

/** `2026-01-10T12:00` (a datetime-local value, read as UTC) ↔ ISO. */
export function isoFromInput(value: string): string | null {
  const t = value ? Date.parse(`${value}Z`) : NaN;
  return Number.isNaN(t) ? null : new Date(t).toISOString();
}

export function inputFromIso(iso: string | null): string {
  return iso ? iso.slice(0, 16) : '';
}

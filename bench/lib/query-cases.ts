import type { AuditFilter } from '../../src/audit/audit.store.js';
import { searchTerms } from '../../src/audit/search-terms.js';
import { Catalog } from '../../src/catalog/catalog.js';

const DAY = 86_400_000;

/** One `GET /api/audit` request and the store filter it turns into. */
export interface QueryCase {
  readonly name: string;
  /** Query string parameters (arrays repeat). */
  readonly params: Record<string, string | string[]>;
  readonly filter: AuditFilter;
  readonly beforeSeq?: number;
  readonly includeTotal: boolean;
  readonly limit: number;
}

const catalog = new Catalog();
const expand = (patterns: string[]): string[] => [...new Set(patterns.flatMap((p) => catalog.expandPattern(p) ?? []))];
const iso = (ms: number): string => new Date(ms).toISOString();

/** Where the stored log sits in time: windows are placed from the data, not assumed. */
export interface LogShape {
  readonly maxSeq: number;
  /** Recorded time of the newest entry. */
  readonly newestTs: number;
  /**
   * Recorded time of an entry three quarters along the chain, where the log holds seeded
   * traffic (the growth group's bursts, recorded at one instant, sit earlier).
   */
  readonly middleTs: number;
}

/**
 * The pages the UI and SIEM clients ask for: the newest page, each filter alone, the
 * combinations people use, search, a deep cursor and the count. Time windows end at the
 * newest entry (last 7 and 30 days) or sit three quarters along the log (one day).
 */
export function queryCases(shape: LogShape): QueryCase[] {
  const newest = shape.newestTs;
  const middle = shape.middleTs;
  const size = shape.maxSeq;
  const limit = 50;
  const c = (name: string, params: Record<string, string | string[]>, filter: AuditFilter, extra: Partial<QueryCase> = {}): QueryCase => ({
    name, params, filter, includeTotal: false, limit, ...extra,
  });
  const week = newest - 7 * DAY;
  const month = newest - 30 * DAY;
  return [
    c('newest page', {}, {}),
    c('action (exact)', { action: 'rotation.completed' }, { actions: expand(['rotation.completed']) }),
    c('action prefix rotation.*', { action: 'rotation.*' }, { actions: expand(['rotation.*']) }),
    c('actor', { actor: 'scanner-03' }, { actor: 'scanner-03' }),
    c('actor_type=system', { actor_type: 'system' }, { actorType: 'system' }),
    c('severity=critical', { severity: 'critical' }, { severities: ['critical'] }),
    c('resource', { resource: 'kv-prod-03' }, { resource: 'kv-prod-03' }),
    c('resource type (common)', { resource: 'secret' }, { resource: 'secret' }),
    c('start/end (1 day)', { start: iso(middle - DAY / 2), end: iso(middle + DAY / 2) }, { start: middle - DAY / 2, end: middle + DAY / 2 }),
    c('action + 7 days', { action: 'rotation.failed', start: iso(week) }, { actions: expand(['rotation.failed']), start: week }),
    c('actor + severity + 30 days', { actor: 'alice.smith', severity: 'warning', start: iso(month) }, { actor: 'alice.smith', severities: ['warning'], start: month }),
    c('q search (common word)', { q: 'billing' }, { searchTokens: searchTerms('billing') }),
    c('q search (two words, rare)', { q: 'mallory locked' }, { searchTokens: searchTerms('mallory locked') }),
    c('deep cursor page (90% back)', { cursor: String(Math.floor(size / 10)) }, {}, { beforeSeq: Math.floor(size / 10) }),
    c('include_total (no filter)', { include_total: 'true' }, {}, { includeTotal: true }),
    c('include_total + resource', { include_total: 'true', resource: 'kv-prod-03' }, { resource: 'kv-prod-03' }, { includeTotal: true }),
    c('include_total + rotation.* + 30 days', { include_total: 'true', action: 'rotation.*', start: iso(month) }, { actions: expand(['rotation.*']), start: month }, { includeTotal: true }),
  ];
}

/** The request path of a case. */
export function casePath(q: QueryCase): string {
  const sp = new URLSearchParams();
  for (const [k, v] of Object.entries(q.params)) for (const one of Array.isArray(v) ? v : [v]) sp.append(k, one);
  sp.set('limit', String(q.limit));
  return `/api/audit?${sp.toString()}`;
}

import type { Dialect, SqlValue } from '../store/sql-database.js';
import type { AuditFilter, AuditPage } from './audit.store.js';
import { ENTRY_SELECT } from './entry-row.js';

const placeholders = (n: number): string => Array.from({ length: n }, () => '?').join(', ');

/** The WHERE conditions for a filter; `1 = 1` when the filter is empty. */
export function filterToSql(filter: AuditFilter, dialect: Dialect): { where: string; params: SqlValue[] } {
  const parts: string[] = [];
  const params: SqlValue[] = [];
  if (filter.start !== undefined) {
    parts.push('ts >= ?');
    params.push(filter.start);
  }
  if (filter.end !== undefined) {
    parts.push('ts <= ?');
    params.push(filter.end);
  }
  if (filter.actions && filter.actions.length > 0) {
    parts.push(`action IN (${placeholders(filter.actions.length)})`);
    params.push(...filter.actions);
  }
  if (filter.actor !== undefined) {
    parts.push('(actor_name = ? OR actor_id = ?)');
    params.push(filter.actor, filter.actor);
  }
  if (filter.actorType !== undefined) {
    parts.push('actor_type = ?');
    params.push(filter.actorType);
  }
  if (filter.severities && filter.severities.length > 0) {
    parts.push(`severity IN (${placeholders(filter.severities.length)})`);
    params.push(...filter.severities);
  }
  if (filter.resource !== undefined) {
    parts.push('(resource_type = ? OR resource_id = ? OR resource_name = ?)');
    params.push(filter.resource, filter.resource, filter.resource);
  }
  if (filter.searchTokens && filter.searchTokens.length > 0) {
    const search = dialect.searchPredicate(filter.searchTokens);
    parts.push(search.sql);
    params.push(...search.params);
  }
  return { where: parts.length > 0 ? parts.join(' AND ') : '1 = 1', params };
}

/** One statement and its parameters, in placeholder order. */
export interface SqlStatement {
  readonly sql: string;
  readonly params: SqlValue[];
}

/** How the entries table is laid out, where it changes the best SQL. */
export interface AuditSqlOptions {
  readonly dialect: Dialect;
  /**
   * The table is partitioned by `ts` (PostgreSQL): keep the `ts` predicates beside the seq
   * bounds so the planner prunes partitions. Elsewhere they are left out, so the planner
   * cannot prefer the `ts` index and sort the whole window.
   */
  readonly timePartitioned: boolean;
}

interface Clause {
  readonly sql: string;
  readonly params: readonly SqlValue[];
}

/** One way a multi-valued filter can match: `column = value`. */
interface Alternative {
  readonly column: string;
  readonly value: string;
}

/** Above this many alternatives a filter stays one `IN`/`OR` predicate instead of a union. */
const MAX_BRANCHES = 32;

const and = (clauses: readonly Clause[]): Clause =>
  clauses.length === 0 ? { sql: '1 = 1', params: [] } : { sql: clauses.map((c) => c.sql).join(' AND '), params: clauses.flatMap((c) => c.params) };

/**
 * The time window as a seq range. `ts` never decreases along `seq` (the chain writer stamps
 * `max(now, head.ts)`), so the entries recorded in `[start, end]` are exactly those from the
 * first entry at or after `start` to the last at or before `end`: two probes of the
 * `(ts, seq)` index. An empty side (NULL) matches nothing, as the window does.
 */
function seqWindow(filter: AuditFilter, options: AuditSqlOptions): Clause[] {
  const out: Clause[] = [];
  if (filter.start !== undefined) {
    out.push({ sql: `seq >= ${firstSeqFrom}`, params: [filter.start] });
    if (options.timePartitioned) out.push({ sql: 'ts >= ?', params: [filter.start] });
  }
  if (filter.end !== undefined) {
    out.push({ sql: `seq <= ${lastSeqUntil}`, params: [filter.end] });
    if (options.timePartitioned) out.push({ sql: 'ts <= ?', params: [filter.end] });
  }
  return out;
}

const firstSeqFrom = '(SELECT seq FROM audit_entries WHERE ts >= ? ORDER BY ts ASC, seq ASC LIMIT 1)';
const lastSeqUntil = '(SELECT seq FROM audit_entries WHERE ts <= ? ORDER BY ts DESC, seq DESC LIMIT 1)';

/** The filters that match one of several values or columns, most selective first. */
function disjunctions(filter: AuditFilter): Alternative[][] {
  const out: Alternative[][] = [];
  const of = (columns: readonly string[], value: string): Alternative[] => columns.map((column) => ({ column, value }));
  const distinct = (column: string, values: readonly string[]): Alternative[] => [...new Set(values)].map((value) => ({ column, value }));
  if (filter.resource !== undefined) out.push(of(['resource_type', 'resource_id', 'resource_name'], filter.resource));
  if (filter.actor !== undefined) out.push(of(['actor_name', 'actor_id'], filter.actor));
  if (filter.actions && filter.actions.length > 0) out.push(distinct('action', filter.actions));
  if (filter.severities && filter.severities.length > 0) out.push(distinct('severity', filter.severities));
  return out;
}

/** Any of the alternatives, as one predicate. */
function anyOf(alternatives: readonly Alternative[]): Clause {
  const columns = new Set(alternatives.map((a) => a.column));
  const params = alternatives.map((a) => a.value);
  if (alternatives.length === 1) return { sql: `${alternatives[0]!.column} = ?`, params };
  if (columns.size === 1) return { sql: `${alternatives[0]!.column} IN (${placeholders(alternatives.length)})`, params };
  return { sql: `(${alternatives.map((a) => `${a.column} = ?`).join(' OR ')})`, params };
}

/**
 * Alternative `i` of a disjunction, excluding every earlier one, so the branches are
 * disjoint: their pages merge without duplicates and their counts add up. Alternatives on
 * the same column have distinct values and exclude each other already.
 */
function branchOf(alternatives: readonly Alternative[], i: number): Clause[] {
  const own = alternatives[i]!;
  const out: Clause[] = [{ sql: `${own.column} = ?`, params: [own.value] }];
  for (const earlier of alternatives.slice(0, i)) {
    if (earlier.column === own.column) continue;
    out.push({ sql: `(${earlier.column} <> ? OR ${earlier.column} IS NULL)`, params: [earlier.value] });
  }
  return out;
}

/**
 * A filter as disjoint branches whose union is the filter. A filter matching one of several
 * columns (`resource`, `actor`) or values (`action`, `severity`) becomes one branch per
 * alternative, each an equality on its own `(column, seq)` index, which reads the newest (or
 * oldest) entries straight off the index instead of scanning or sorting every match. With
 * `split: 'columns'` only a filter over several columns is split (for counts, where order does
 * not matter and one `IN` range is cheaper than one branch per value).
 */
export function filterBranches(filter: AuditFilter, options: AuditSqlOptions, split: 'columns' | 'columns and values' = 'columns and values'): Clause[] {
  const all = disjunctions(filter);
  const splits = (d: Alternative[]): boolean => d.length > 1 && d.length <= MAX_BRANCHES && (split === 'columns and values' || new Set(d.map((a) => a.column)).size > 1);
  const driving = all.find(splits);
  const common: Clause[] = all.filter((d) => d !== driving).map(anyOf);
  if (filter.actorType !== undefined) common.push({ sql: 'actor_type = ?', params: [filter.actorType] });
  if (filter.searchTokens && filter.searchTokens.length > 0) common.push(options.dialect.searchPredicate(filter.searchTokens));
  common.push(...seqWindow(filter, options));
  if (!driving) return [and(common)];
  return driving.map((_, i) => and([...branchOf(driving, i), ...common]));
}

/**
 * The statement behind `AuditStore.page()`: newest first reads `limit + 1` rows (the extra
 * one says whether there is a next page), oldest first `limit` rows.
 */
export function pageStatement(filter: AuditFilter, page: AuditPage, options: AuditSqlOptions): SqlStatement {
  const newest = page.order === 'newest';
  const cursor: Clause | null = newest
    ? page.beforeSeq !== undefined ? { sql: 'seq < ?', params: [page.beforeSeq] } : null
    : { sql: 'seq > ?', params: [page.afterSeq] };
  const rows = newest ? page.limit + 1 : page.limit;
  const order = newest ? 'DESC' : 'ASC';
  const branches = filterBranches(filter, options).map((b) => and(cursor ? [b, cursor] : [b]));
  if (branches.length === 1) {
    const only = branches[0]!;
    return { sql: `SELECT ${ENTRY_SELECT} FROM audit_entries WHERE ${only.sql} ORDER BY seq ${order} LIMIT ?`, params: [...only.params, rows] };
  }
  const parts = branches.map((b, i) => `SELECT * FROM (SELECT ${ENTRY_SELECT} FROM audit_entries WHERE ${b.sql} ORDER BY seq ${order} LIMIT ?) AS b${i}`);
  return {
    sql: `SELECT ${ENTRY_SELECT} FROM (${parts.join(' UNION ALL ')}) AS merged ORDER BY seq ${order} LIMIT ?`,
    params: [...branches.flatMap((b) => [...b.params, rows]), rows],
  };
}

/** Whether a count of the filter is the length of a seq range (no filter, or only a time window). */
export function countsBySeqRange(filter: AuditFilter): boolean {
  return disjunctions(filter).length === 0 && filter.actorType === undefined && !(filter.searchTokens && filter.searchTokens.length > 0);
}

/**
 * The statement behind `AuditStore.count()`, answering one row `{ n }`.
 *
 * With no filter or only a time window it is exact and costs two index probes at most: the
 * chain is gap-free from the anchor (genesis, or the last entry a purge removed) to the head,
 * and a time window is a seq range (see `seqWindow`). Otherwise each disjoint branch counts up
 * to `cap + 1` matches off its index, and `n > cap` means there are more than `cap`.
 */
export function countStatement(filter: AuditFilter, cap: number, options: AuditSqlOptions): SqlStatement {
  if (countsBySeqRange(filter)) {
    const first: Clause = filter.start !== undefined ? { sql: firstSeqFrom, params: [filter.start] } : { sql: '(SELECT anchor_seq + 1 FROM audit_chain_head WHERE id = 1)', params: [] };
    const last: Clause = filter.end !== undefined ? { sql: lastSeqUntil, params: [filter.end] } : { sql: '(SELECT seq FROM audit_chain_head WHERE id = 1)', params: [] };
    return { sql: `SELECT COALESCE(${last.sql} - ${first.sql} + 1, 0) AS n`, params: [...last.params, ...first.params] };
  }
  // Order does not matter here: values of one column stay one `IN` (one index range, at most
  // `cap + 1` entries in all), and the seq bounds alone delimit the window, so PostgreSQL can
  // count from the `(column, seq)` indexes without reading rows for their `ts`.
  const counts = filterBranches(filter, { ...options, timePartitioned: false }, 'columns').map((b, i) => ({
    sql: `(SELECT COUNT(*) FROM (SELECT 1 FROM audit_entries WHERE ${b.sql} LIMIT ?) AS c${i})`,
    params: [...b.params, cap + 1],
  }));
  return { sql: `SELECT ${counts.map((c) => c.sql).join(' + ')} AS n`, params: counts.flatMap((c) => c.params) };
}

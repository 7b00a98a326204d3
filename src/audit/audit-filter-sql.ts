import type { Dialect, SqlValue } from '../store/sql-database.js';
import type { AuditFilter } from './audit.store.js';

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

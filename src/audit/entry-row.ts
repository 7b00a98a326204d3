import type { Category, Severity } from '../catalog/event-definitions.js';
import { ENTRY_COLUMNS, insertColumnTypes } from '../store/audit-entries-table.js';
import type { Dialect, SqlParams, SqlValue } from '../store/sql-database.js';
import { indexTerms } from './search-terms.js';
import type { ActorType, StoredEntry } from './audit-entry.js';

export { ENTRY_COLUMNS, ENTRY_COLUMN_TYPES } from '../store/audit-entries-table.js';

export const ENTRY_SELECT = ENTRY_COLUMNS.join(', ');

export interface EntryRow {
  seq: number; id: string; ts: number; occurred_at: number | null; action: string; category: string; severity: string;
  actor_type: string; actor_id: string | null; actor_name: string | null;
  resource_type: string; resource_id: string; resource_name: string | null;
  description: string; details: string;
  source_ip: string | null; source_user_agent: string | null; source_token_id: string | null; request_id: string | null;
  prev_hash: string; hash: string;
}

export function rowToEntry(r: EntryRow): StoredEntry {
  return {
    seq: r.seq,
    id: r.id,
    ts: r.ts,
    occurred_at: r.occurred_at,
    action: r.action,
    category: r.category as Category,
    severity: r.severity as Severity,
    actor: { type: r.actor_type as ActorType, id: r.actor_id, name: r.actor_name },
    resource: { type: r.resource_type, id: r.resource_id, name: r.resource_name },
    description: r.description,
    detailsJson: r.details,
    source: { ip: r.source_ip, user_agent: r.source_user_agent, token_id: r.source_token_id },
    request_id: r.request_id,
    prev_hash: r.prev_hash,
    hash: r.hash,
  };
}

export function entryToParams(e: StoredEntry): SqlValue[] {
  return [
    e.seq, e.id, e.ts, e.occurred_at, e.action, e.category, e.severity,
    e.actor.type, e.actor.id, e.actor.name, e.resource.type, e.resource.id, e.resource.name,
    e.description, e.detailsJson, e.source.ip, e.source.user_agent, e.source.token_id, e.request_id,
    e.prev_hash, e.hash,
  ];
}

/** The words an entry is found by (see `indexTerms`). */
export function entrySearchTerms(e: StoredEntry): string[] {
  return indexTerms([e.action, e.actor.name, e.description, e.resource.name, e.resource.id]);
}

/**
 * The statements that insert `rows` into audit_entries on this dialect: every column, and the
 * search vector where the backend keeps it in the row. Every writer of entries uses this.
 */
export function entryInsertStatements(dialect: Dialect, rows: readonly StoredEntry[]): Array<[string, SqlParams]> {
  const vector = dialect.searchVector;
  const values = rows.map((e) => {
    const row = entryToParams(e);
    if (vector) row.push(vector(entrySearchTerms(e)));
    return row;
  });
  return dialect.insertRows('audit_entries', insertColumnTypes(vector !== null), values);
}

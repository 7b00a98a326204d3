import type { ColumnType } from './sql-database.js';

/**
 * The columns of `audit_entries`, in the order inserts and selects use (the migrations define
 * the table; the store layer and the audit module share this one list).
 */
export const ENTRY_COLUMNS = [
  'seq', 'id', 'ts', 'occurred_at', 'action', 'category', 'severity',
  'actor_type', 'actor_id', 'actor_name', 'resource_type', 'resource_id', 'resource_name',
  'description', 'details', 'source_ip', 'source_user_agent', 'source_token_id', 'request_id',
  'prev_hash', 'hash',
] as const;

const INTEGER_COLUMNS: ReadonlySet<string> = new Set(['seq', 'ts', 'occurred_at']);

/** Each column with its type, for bulk inserts. */
export const ENTRY_COLUMN_TYPES: ReadonlyArray<readonly [name: string, type: ColumnType]> = ENTRY_COLUMNS.map((name) => [name, INTEGER_COLUMNS.has(name) ? 'bigint' : 'text'] as const);

/**
 * The columns an insert writes: ENTRY_COLUMNS, and `search` last where the backend stores the
 * entry's search vector in the row (PostgreSQL).
 */
export function insertColumnTypes(withSearch: boolean): ReadonlyArray<readonly [name: string, type: ColumnType]> {
  return withSearch ? WITH_SEARCH : ENTRY_COLUMN_TYPES;
}
const WITH_SEARCH: ReadonlyArray<readonly [name: string, type: ColumnType]> = [...ENTRY_COLUMN_TYPES, ['search', 'tsvector']];

import type { Category, Severity } from '../catalog/event-definitions.js';
import type { SqlValue } from '../store/sql-database.js';
import type { ActorType, StoredEntry } from './audit-entry.js';

/** Column order of `audit_entries`, shared by inserts and selects. */
export const ENTRY_COLUMNS = [
  'seq', 'id', 'ts', 'occurred_at', 'action', 'category', 'severity',
  'actor_type', 'actor_id', 'actor_name', 'resource_type', 'resource_id', 'resource_name',
  'description', 'details', 'source_ip', 'source_user_agent', 'source_token_id', 'request_id',
  'prev_hash', 'hash',
] as const;

export const ENTRY_SELECT = ENTRY_COLUMNS.join(', ');

const INTEGER_COLUMNS: ReadonlySet<string> = new Set(['seq', 'ts', 'occurred_at']);
/** Each column with its type, for bulk inserts. */
export const ENTRY_COLUMN_TYPES = ENTRY_COLUMNS.map((name) => [name, INTEGER_COLUMNS.has(name) ? 'bigint' : 'text'] as const);

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

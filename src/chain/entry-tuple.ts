import type { ActorType, StoredEntry } from '../audit/audit-entry.js';
import type { Category, Severity } from '../catalog/event-definitions.js';

/**
 * A stored entry as the drivers return it in array mode: the columns of `audit_entries` in
 * `ENTRY_COLUMNS` order. Bulk reads (verify, export) use it to skip one object per row.
 */
export type EntryTuple = [
  seq: number, id: string, ts: number, occurred_at: number | null, action: string, category: string, severity: string,
  actor_type: string, actor_id: string | null, actor_name: string | null,
  resource_type: string, resource_id: string, resource_name: string | null,
  description: string, details: string,
  source_ip: string | null, source_user_agent: string | null, source_token_id: string | null, request_id: string | null,
  prev_hash: string, hash: string,
];

/** Positions in `EntryTuple` the chain checks read. */
export const T_SEQ = 0;
export const T_TS = 2;
export const T_OCCURRED_AT = 3;
export const T_PREV_HASH = 19;
export const T_HASH = 20;

/** What the chain checks need of a row once its canonical bytes are written: small, so it is cheap to hold while the row is hashed. */
export type ChainLink = readonly [seq: number, prev_hash: string, ts: number, occurred_at: number | null, hash: string];

export function linkOf(r: EntryTuple): ChainLink {
  return [r[T_SEQ], r[T_PREV_HASH], r[T_TS], r[T_OCCURRED_AT], r[T_HASH]];
}

export function tupleToEntry(r: EntryTuple): StoredEntry {
  return {
    seq: r[0],
    id: r[1],
    ts: r[2],
    occurred_at: r[3],
    action: r[4],
    category: r[5] as Category,
    severity: r[6] as Severity,
    actor: { type: r[7] as ActorType, id: r[8], name: r[9] },
    resource: { type: r[10], id: r[11], name: r[12] },
    description: r[13],
    detailsJson: r[14],
    source: { ip: r[15], user_agent: r[16], token_id: r[17] },
    request_id: r[18],
    prev_hash: r[19],
    hash: r[20],
  };
}

import type { Category, Severity } from '../catalog/event-definitions.js';

export const ACTOR_TYPES = ['user', 'worker', 'system'] as const;
export type ActorType = (typeof ACTOR_TYPES)[number];

export interface Actor {
  readonly type: ActorType;
  readonly id: string | null;
  readonly name: string | null;
}

export interface ResourceRef {
  readonly type: string;
  readonly id: string;
  readonly name: string | null;
}

export interface Source {
  readonly ip: string | null;
  readonly user_agent: string | null;
  /** The API token that submitted the event, when it came through the ingest API. */
  readonly token_id: string | null;
}

/**
 * An entry before the writer places it in the chain: everything but `seq`, `ts`,
 * `prev_hash` and `hash`. `details` is already canonical JSON text, so the stored bytes are
 * exactly the hashed bytes on every backend.
 */
export interface PendingEntry {
  readonly id: string;
  readonly occurred_at: number | null;
  readonly action: string;
  readonly category: Category;
  readonly severity: Severity;
  readonly actor: Actor;
  readonly resource: ResourceRef;
  readonly description: string;
  readonly detailsJson: string;
  readonly source: Source;
  readonly request_id: string | null;
}

/** A stored entry. `ts` is ms since the epoch (UTC); seq and ts never decrease together. */
export interface StoredEntry extends PendingEntry {
  readonly seq: number;
  readonly ts: number;
  readonly prev_hash: string;
  readonly hash: string;
}

/** An entry as the API presents it (API.md "An entry"). */
export interface AuditEntryJson {
  id: string;
  seq: number;
  ts: string;
  occurred_at: string | null;
  action: string;
  category: string;
  severity: Severity;
  actor: Actor;
  resource: ResourceRef;
  description: string;
  details: unknown;
  source: Source;
  request_id: string | null;
  prev_hash: string;
  hash: string;
}

export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

/** The fields before and after `details`, in the API's order. */
function fieldsBeforeDetails(e: StoredEntry): Omit<AuditEntryJson, 'details' | 'source' | 'request_id' | 'prev_hash' | 'hash'> {
  return {
    id: e.id,
    seq: e.seq,
    ts: isoTime(e.ts),
    occurred_at: e.occurred_at === null ? null : isoTime(e.occurred_at),
    action: e.action,
    category: e.category,
    severity: e.severity,
    actor: e.actor,
    resource: e.resource,
    description: e.description,
  };
}

function fieldsAfterDetails(e: StoredEntry): Pick<AuditEntryJson, 'source' | 'request_id' | 'prev_hash' | 'hash'> {
  return { source: e.source, request_id: e.request_id, prev_hash: e.prev_hash, hash: e.hash };
}

export function presentEntry(e: StoredEntry): AuditEntryJson {
  return { ...fieldsBeforeDetails(e), details: JSON.parse(e.detailsJson) as unknown, ...fieldsAfterDetails(e) };
}

/**
 * `JSON.stringify(presentEntry(e))` without parsing the details: the stored canonical
 * details text is valid JSON and goes in as it is (the stdout mirror writes every entry).
 */
export function entryJsonText(e: StoredEntry): string {
  const head = JSON.stringify(fieldsBeforeDetails(e));
  const tail = JSON.stringify(fieldsAfterDetails(e));
  return `${head.slice(0, -1)},"details":${e.detailsJson},${tail.slice(1)}`;
}

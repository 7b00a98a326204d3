import { IsoTimeFormatter } from '../chain/iso-time.js';
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

const q = JSON.stringify;
const orNull = (v: string | null): string => (v === null ? 'null' : q(v));
const mirrorTime = new IsoTimeFormatter();

/**
 * `JSON.stringify(presentEntry(e))` without building the object or parsing the details: the
 * API's field order written out, with the stored canonical details text (valid JSON) spliced
 * in as it is. The stdout mirror writes every entry; a property test holds the two equal.
 */
export function entryJsonText(e: StoredEntry): string {
  return (
    `{"id":${q(e.id)},"seq":${e.seq},"ts":"${mirrorTime.format(e.ts)}"` +
    `,"occurred_at":${e.occurred_at === null ? 'null' : `"${mirrorTime.format(e.occurred_at)}"`}` +
    `,"action":${q(e.action)},"category":${q(e.category)},"severity":${q(e.severity)}` +
    `,"actor":{"type":${q(e.actor.type)},"id":${orNull(e.actor.id)},"name":${orNull(e.actor.name)}}` +
    `,"resource":{"type":${q(e.resource.type)},"id":${q(e.resource.id)},"name":${orNull(e.resource.name)}}` +
    `,"description":${q(e.description)},"details":${e.detailsJson}` +
    `,"source":{"ip":${orNull(e.source.ip)},"user_agent":${orNull(e.source.user_agent)},"token_id":${orNull(e.source.token_id)}}` +
    `,"request_id":${orNull(e.request_id)},"prev_hash":${q(e.prev_hash)},"hash":${q(e.hash)}}`
  );
}

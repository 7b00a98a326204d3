import { createHash } from 'node:crypto';
import type { StoredEntry } from '../audit/audit-entry.js';
import { isoTime } from '../audit/audit-entry.js';

/** Starting point of every stored chain: SHA-256 of ASCII "trailmark:audit-chain:v1", hex. */
export const CHAIN_GENESIS = createHash('sha256').update('trailmark:audit-chain:v1', 'ascii').digest('hex');

export type HashableEntry = Omit<StoredEntry, 'prev_hash' | 'hash'>;

const q = JSON.stringify;
const orNull = (v: string | null): string => (v === null ? 'null' : q(v));

/**
 * The canonical bytes of an entry as hashed in the chain: canonical JSON of
 * `{action, actor{id,name,type}, category, description, details, id, occurred_at,
 * request_id, resource{id,name,type}, seq, severity, source{ip,token_id,user_agent}, ts}`
 * with `ts`/`occurred_at` as ISO 8601 UTC strings. Written out by hand (keys already in
 * order, details already canonical) because verify walks millions of rows; a known-answer
 * test proves it equals `canonicalJson` of the same object.
 */
export function canonicalEntry(e: HashableEntry): string {
  return (
    `{"action":${q(e.action)}` +
    `,"actor":{"id":${orNull(e.actor.id)},"name":${orNull(e.actor.name)},"type":${q(e.actor.type)}}` +
    `,"category":${q(e.category)}` +
    `,"description":${q(e.description)}` +
    `,"details":${e.detailsJson}` +
    `,"id":${q(e.id)}` +
    `,"occurred_at":${e.occurred_at === null ? 'null' : q(isoTime(e.occurred_at))}` +
    `,"request_id":${orNull(e.request_id)}` +
    `,"resource":{"id":${q(e.resource.id)},"name":${orNull(e.resource.name)},"type":${q(e.resource.type)}}` +
    `,"seq":${e.seq}` +
    `,"severity":${q(e.severity)}` +
    `,"source":{"ip":${orNull(e.source.ip)},"token_id":${orNull(e.source.token_id)},"user_agent":${orNull(e.source.user_agent)}}` +
    `,"ts":${q(isoTime(e.ts))}}`
  );
}

/** `hash = SHA-256(prev_hash as 32 raw bytes ‖ canonical entry bytes)`, lowercase hex. */
export function chainHash(prevHashHex: string, e: HashableEntry): string {
  return createHash('sha256').update(Buffer.from(prevHashHex, 'hex')).update(canonicalEntry(e), 'utf8').digest('hex');
}

import { createHash, hash } from 'node:crypto';
import type { StoredEntry } from '../audit/audit-entry.js';
import type { EntryTuple } from './entry-tuple.js';
import { IsoTimeFormatter } from './iso-time.js';

/** Starting point of every stored chain: SHA-256 of ASCII "trailmark:audit-chain:v1", hex. */
export const CHAIN_GENESIS = createHash('sha256').update('trailmark:audit-chain:v1', 'ascii').digest('hex');

export type HashableEntry = Omit<StoredEntry, 'prev_hash' | 'hash'>;

const q = JSON.stringify;
const orNull = (v: string | null): string => (v === null ? 'null' : q(v));

/**
 * `ts` as a JSON string, remembered for the last `ts` seen: an append group shares one `ts`,
 * so most rows hit it. ISO times hold no character JSON escapes, so quoting is enough.
 */
const tsFormat = new IsoTimeFormatter();
let lastTs = Number.NaN;
let lastTsText = '""';
function tsText(ms: number): string {
  if (ms !== lastTs) {
    lastTsText = `"${tsFormat.format(ms)}"`;
    lastTs = ms;
  }
  return lastTsText;
}

const occurredFormat = new IsoTimeFormatter();
const occurredText = (ms: number | null): string => (ms === null ? 'null' : `"${occurredFormat.format(ms)}"`);

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
    `,"occurred_at":${occurredText(e.occurred_at)}` +
    `,"request_id":${orNull(e.request_id)}` +
    `,"resource":{"id":${q(e.resource.id)},"name":${orNull(e.resource.name)},"type":${q(e.resource.type)}}` +
    `,"seq":${e.seq}` +
    `,"severity":${q(e.severity)}` +
    `,"source":{"ip":${orNull(e.source.ip)},"token_id":${orNull(e.source.token_id)},"user_agent":${orNull(e.source.user_agent)}}` +
    `,"ts":${tsText(e.ts)}}`
  );
}

/**
 * `canonicalEntry` of a row read in array mode, without building the entry object first.
 * The same template over the same values: a property test holds the two equal.
 */
export function canonicalTuple(r: EntryTuple): string {
  return (
    `{"action":${q(r[4])}` +
    `,"actor":{"id":${orNull(r[8])},"name":${orNull(r[9])},"type":${q(r[7])}}` +
    `,"category":${q(r[5])}` +
    `,"description":${q(r[13])}` +
    `,"details":${r[14]}` +
    `,"id":${q(r[1])}` +
    `,"occurred_at":${occurredText(r[3])}` +
    `,"request_id":${orNull(r[18])}` +
    `,"resource":{"id":${q(r[11])},"name":${orNull(r[12])},"type":${q(r[10])}}` +
    `,"seq":${r[0]}` +
    `,"severity":${q(r[6])}` +
    `,"source":{"ip":${orNull(r[15])},"token_id":${orNull(r[17])},"user_agent":${orNull(r[16])}}` +
    `,"ts":${tsText(r[2])}}`
  );
}

/** Where `chainHash` lays out prev_hash ‖ canonical bytes for a one-shot hash (reused; a call never yields). */
const scratch = Buffer.allocUnsafe(128 * 1024);

/** `hash = SHA-256(prev_hash as 32 raw bytes ‖ canonical entry bytes)`, lowercase hex. */
export function chainHash(prevHashHex: string, e: HashableEntry): string {
  const canonical = canonicalEntry(e);
  // UTF-8 takes at most 3 bytes per UTF-16 unit: past that bound the text may not fit. A
  // prev_hash that is not 64 hex digits (only a tampered row has one) is hashed as Buffer.from
  // decodes it, as always.
  if (canonical.length * 3 > scratch.length - 32 || prevHashHex.length !== 64 || scratch.write(prevHashHex, 0, 'hex') !== 32) {
    return createHash('sha256').update(Buffer.from(prevHashHex, 'hex')).update(canonical, 'utf8').digest('hex');
  }
  const n = scratch.write(canonical, 32, 'utf8');
  return hash('sha256', scratch.subarray(0, 32 + n), 'hex');
}

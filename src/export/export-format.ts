import { createHash } from 'node:crypto';

/**
 * The fixed vocabulary of the CSV evidence export, version 1 (EXPORT-FORMAT.md). Changing
 * any of these values makes every existing export unverifiable: a new format needs a new
 * `CSV_FORMAT` and genesis string, never an edit here.
 */
export const CSV_FORMAT = 'trailmark-audit-csv/1';

export const CSV_COLUMNS = [
  'seq',
  'timestamp',
  'action',
  'severity',
  'actor_type',
  'actor_id',
  'actor_name',
  'resource_type',
  'resource_id',
  'resource_name',
  'description',
  'details',
  'row_hash',
] as const;

/** The first record of every export, without its CRLF. */
export const CSV_HEADER = CSV_COLUMNS.join(',');

export const CRLF = '\r\n';

/** The single field of the last record starts with this, followed by the manifest JSON. */
export const MANIFEST_PREFIX = '#manifest:';

/** The ASCII text whose SHA-256 is h_0 of every export's row chain. */
export const EXPORT_GENESIS_TEXT = 'trailmark:audit-export:v1';

/** The message HMAC'd under SECRET_KEY to derive the manifest HMAC key. */
export const MANIFEST_HMAC_LABEL = 'trailmark:export-manifest:v1';

/** h_0, lowercase hex: the `final_hash` of an export with no rows. */
export const EXPORT_GENESIS_HEX = createHash('sha256').update(EXPORT_GENESIS_TEXT, 'ascii').digest('hex');

/** h_0 as raw bytes; a fresh copy each call because Buffers are mutable. */
export function exportGenesis(): Buffer {
  return Buffer.from(EXPORT_GENESIS_HEX, 'hex');
}

/** Length of `,` + 64 hex digits: the tail of every data record that is not hashed. */
export const ROW_HASH_SUFFIX_BYTES = 65;

/** The name the PDF evidence bundle gives its embedded CSV. */
export const BUNDLE_CSV_NAME = 'audit-export.csv';

import type { Actor } from '../audit/audit-entry.js';
import { canonicalJson } from '../chain/canonical-json.js';
import type { CSV_FORMAT } from './export-format.js';

/** A value that canonical JSON encodes the same in every language: no floats. */
export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/** What the caller knows about an export before its rows are read. */
export interface ManifestInput {
  readonly tenant: string;
  /** When the export was requested, ms since the epoch (UTC); written as ISO 8601. */
  readonly exported_at: number;
  /** Who asked for it. */
  readonly exported_by: Actor;
  /** The export's filters as the request gave them (only integers as numbers). */
  readonly filters: { readonly [key: string]: JsonValue };
  /** The stored chain's head when the export started; every exported seq is at or below it. */
  readonly log_head: { readonly seq: number; readonly hash: string };
}

/**
 * The manifest record's object. Invariants: `row_count`, `first_seq`, `last_seq` and
 * `final_hash` describe exactly the data records before it; `hmac` and `signature` cover
 * `manifestSignedBytes` of everything else.
 */
export interface ExportManifest {
  readonly format: typeof CSV_FORMAT;
  readonly tenant: string;
  readonly exported_at: string;
  readonly exported_by: Actor;
  readonly filters: { readonly [key: string]: JsonValue };
  readonly row_count: number;
  readonly first_seq: number | null;
  readonly last_seq: number | null;
  readonly final_hash: string;
  readonly log_head: { readonly seq: number; readonly hash: string };
  readonly key_id: string;
  readonly hmac: string;
  readonly signature: string;
}

export type UnsignedManifest = Omit<ExportManifest, 'hmac' | 'signature'>;

/** `signed_bytes`: canonical JSON of the manifest without `hmac` and `signature`, UTF-8. */
export function manifestSignedBytes(manifest: { readonly [key: string]: unknown }): Buffer {
  const { hmac: _hmac, signature: _signature, ...rest } = manifest;
  return Buffer.from(canonicalJson(rest), 'utf8');
}

/** Refuses values whose canonical JSON could differ between implementations (floats, NaN). */
export function assertSignable(value: unknown, path = 'filters'): void {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new TypeError(`${path}: only safe integers may appear in a signed manifest (got ${value})`);
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => assertSignable(v, `${path}[${i}]`));
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) assertSignable(v, `${path}.${k}`);
  } else if (!['string', 'boolean'].includes(typeof value) && value !== null) {
    throw new TypeError(`${path}: ${typeof value} cannot appear in a signed manifest`);
  }
}

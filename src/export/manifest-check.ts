import { canonicalJson } from '../chain/canonical-json.js';
import { CSV_FORMAT } from './export-format.js';
import type { ExportManifest } from './export-manifest.js';

const REQUIRED = [
  'format', 'tenant', 'exported_at', 'exported_by', 'filters', 'row_count', 'first_seq',
  'last_seq', 'final_hash', 'log_head', 'key_id', 'hmac', 'signature',
] as const;

/**
 * `manifest` is null only when the text is not a JSON object; otherwise it is returned for
 * display even when `problems` is not empty, and its members must then not be trusted.
 */
export interface ManifestParse {
  readonly manifest: ExportManifest | null;
  readonly problems: string[];
}

const isSeq = (v: unknown): boolean => v === null || (Number.isSafeInteger(v) && (v as number) > 0);

/**
 * Reads the JSON text of a manifest record and lists everything wrong with its shape: not
 * JSON, not canonical (so not the bytes that were signed), a required member missing or of
 * the wrong type, or another format version.
 */
export function parseManifest(jsonBytes: Buffer): ManifestParse {
  let value: unknown;
  try {
    value = JSON.parse(jsonBytes.toString('utf8'));
  } catch {
    return { manifest: null, problems: ['the manifest is not valid JSON'] };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { manifest: null, problems: ['the manifest is not a JSON object'] };
  const m = value as Record<string, unknown>;
  const problems: string[] = [];
  let canonical: string | null = null;
  try {
    canonical = canonicalJson(m);
  } catch {
    // reported just below
  }
  if (canonical === null || !Buffer.from(canonical, 'utf8').equals(jsonBytes)) problems.push('the manifest is not in canonical JSON form');
  const missing = REQUIRED.filter((k) => !(k in m));
  if (missing.length > 0) problems.push(`the manifest lacks ${missing.join(', ')}`);
  if ('format' in m && m.format !== CSV_FORMAT) problems.push(`the manifest's format is ${JSON.stringify(m.format)}, not "${CSV_FORMAT}"`);
  if ('row_count' in m && !(Number.isSafeInteger(m.row_count) && (m.row_count as number) >= 0)) problems.push('row_count is not a count');
  if ('first_seq' in m && !isSeq(m.first_seq)) problems.push('first_seq is neither a seq nor null');
  if ('last_seq' in m && !isSeq(m.last_seq)) problems.push('last_seq is neither a seq nor null');
  for (const k of ['final_hash', 'key_id', 'hmac', 'signature', 'tenant', 'exported_at'] as const) {
    if (k in m && typeof m[k] !== 'string') problems.push(`${k} is not a string`);
  }
  for (const k of ['filters', 'exported_by', 'log_head'] as const) {
    if (k in m && (m[k] === null || typeof m[k] !== 'object' || Array.isArray(m[k]))) problems.push(`${k} is not an object`);
  }
  return { manifest: m as unknown as ExportManifest, problems };
}

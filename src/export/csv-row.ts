import type { StoredEntry } from '../audit/audit-entry.js';
import { IsoTimeFormatter } from '../chain/iso-time.js';
import { csvField } from './csv-field.js';

const text = (v: string | null): string => (v === null ? '' : csvField(v));

/**
 * Encodes entries as the hashed part of their records: every column but `row_hash`,
 * comma-separated, exactly as written to the file (guarded and quoted). `null` values are
 * empty fields. `details` is the stored canonical JSON text, untouched, so it can be
 * compared with the stored chain byte for byte.
 *
 * One encoder per export: it remembers the last day it formatted, because `toISOString()`
 * was the largest cost per row and an export's rows mostly share their day.
 */
export class CsvRowEncoder {
  private readonly times = new IsoTimeFormatter();

  content(e: StoredEntry): string {
    return (
      `${e.seq},${this.timestamp(e.ts)},${csvField(e.action)},${csvField(e.severity)}` +
      `,${csvField(e.actor.type)},${text(e.actor.id)},${text(e.actor.name)}` +
      `,${csvField(e.resource.type)},${csvField(e.resource.id)},${text(e.resource.name)}` +
      `,${csvField(e.description)},${csvField(e.detailsJson)}`
    );
  }

  /** UTC ISO 8601 with milliseconds and `Z`, identical to `Date.prototype.toISOString`. */
  timestamp(ms: number): string {
    return this.times.format(ms);
  }
}


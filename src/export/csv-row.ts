import type { StoredEntry } from '../audit/audit-entry.js';
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
  private day = Number.NaN;
  private dayPrefix = '';

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
    const day = Math.floor(ms / DAY_MS);
    if (day !== this.day) {
      this.day = day;
      this.dayPrefix = new Date(day * DAY_MS).toISOString().slice(0, 11);
    }
    let rest = ms - day * DAY_MS;
    const h = Math.floor(rest / 3_600_000);
    rest -= h * 3_600_000;
    const m = Math.floor(rest / 60_000);
    rest -= m * 60_000;
    const s = Math.floor(rest / 1000);
    return `${this.dayPrefix}${TWO[h]}:${TWO[m]}:${TWO[s]}.${THREE[rest - s * 1000]}Z`;
  }
}

const DAY_MS = 86_400_000;
const TWO = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'));
const THREE = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));

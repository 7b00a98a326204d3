const COMMA = 0x2c;
const QUOTE = 0x22;
const CR = 0x0d;
const LF = 0x0a;
const FORMULA_START = new Set([0x3d, 0x2b, 0x2d, 0x40, 0x09, 0x0d]);

/** Where one field sits in its record: `[start, end)` of the raw bytes, quotes included. */
export interface FieldSpan {
  readonly start: number;
  readonly end: number;
  readonly quoted: boolean;
}

export type FieldsResult = { readonly ok: true; readonly fields: FieldSpan[] } | { readonly ok: false; readonly reason: string };

/**
 * Splits one record into fields and checks it is written exactly as the format's writer
 * writes it: a field is quoted if and only if it holds a comma, quote, CR or LF; inner quotes
 * are doubled; a value starting like a formula carries the `'` guard. Anything else could
 * only come from another tool (or a hand edit), so it is reported even where the hash
 * would also catch it.
 */
export function splitFields(record: Buffer): FieldsResult {
  const fields: FieldSpan[] = [];
  let pos = 0;
  for (;;) {
    const n = fields.length + 1;
    if (record[pos] === QUOTE) {
      let close = pos + 1;
      let special = false;
      for (;;) {
        const q = record.indexOf(QUOTE, close);
        if (q === -1) return { ok: false, reason: `field ${n} has no closing quote` };
        if (record[q + 1] === QUOTE) {
          special = true;
          close = q + 2;
          continue;
        }
        close = q;
        break;
      }
      if (!special) special = hasAny(record, pos + 1, close, [COMMA, CR, LF]);
      if (!special) return { ok: false, reason: `field ${n} is quoted but holds no comma, quote, CR or LF` };
      if (FORMULA_START.has(record[pos + 1] ?? -1)) return { ok: false, reason: `field ${n} starts like a formula without the ' guard` };
      fields.push({ start: pos, end: close + 1, quoted: true });
      pos = close + 1;
      if (pos === record.length) return { ok: true, fields };
      if (record[pos] !== COMMA) return { ok: false, reason: `field ${n} has text after its closing quote` };
      pos += 1;
    } else {
      const comma = record.indexOf(COMMA, pos);
      const end = comma === -1 ? record.length : comma;
      if (hasAny(record, pos, end, [QUOTE, CR, LF])) return { ok: false, reason: `field ${n} holds a quote, CR or LF but is not quoted` };
      if (FORMULA_START.has(record[pos] ?? -1) && pos < end) return { ok: false, reason: `field ${n} starts like a formula without the ' guard` };
      fields.push({ start: pos, end, quoted: false });
      if (comma === -1) return { ok: true, fields };
      pos = comma + 1;
    }
  }
}

/** The decoded text of a field (quotes removed, doubled quotes undone). */
export function fieldText(record: Buffer, span: FieldSpan): string {
  const raw = record.toString('utf8', span.start, span.end);
  return span.quoted ? raw.slice(1, -1).replaceAll('""', '"') : raw;
}

function hasAny(buf: Buffer, start: number, end: number, bytes: readonly number[]): boolean {
  for (const b of bytes) {
    const i = buf.indexOf(b, start);
    if (i !== -1 && i < end) return true;
  }
  return false;
}

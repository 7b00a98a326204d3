/**
 * `new Date(ms).toISOString()`, faster for runs of times on the same day: the date part is
 * formatted once per day and the time of day by arithmetic. Days whose ISO form is not the
 * plain `YYYY-MM-DDT…Z` (years before 0 or after 9999) go to `toISOString` itself, and so
 * does anything that is not a time (which throws there, as before). A property test holds it
 * equal to `toISOString` over the whole Date range.
 *
 * Written as plain JavaScript text: verify's range workers run JavaScript handed over as text
 * (a worker cannot load a .ts file in plain Node) and splice this text in, and this module
 * turns the same text into the class once, so both sides format with one piece of code.
 */
export const ISO_TIME_FORMATTER_SOURCE = `
const ISO_DAY_MS = 86400000;
const ISO_TWO = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'));
const ISO_THREE = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
class IsoTimeFormatter {
  constructor() { this.day = NaN; this.dayPrefix = ''; }
  format(ms) {
    if (!Number.isSafeInteger(ms)) return new Date(ms).toISOString();
    const day = Math.floor(ms / ISO_DAY_MS);
    if (day !== this.day) {
      const text = new Date(day * ISO_DAY_MS).toISOString();
      if (text.length !== 24) return new Date(ms).toISOString();
      this.day = day;
      this.dayPrefix = text.slice(0, 11);
    }
    let rest = ms - day * ISO_DAY_MS;
    const h = Math.floor(rest / 3600000);
    rest -= h * 3600000;
    const m = Math.floor(rest / 60000);
    rest -= m * 60000;
    const s = Math.floor(rest / 1000);
    return this.dayPrefix + ISO_TWO[h] + ':' + ISO_TWO[m] + ':' + ISO_TWO[s] + '.' + ISO_THREE[rest - s * 1000] + 'Z';
  }
}
`;

/** Formats times as `toISOString` does (see ISO_TIME_FORMATTER_SOURCE); keep one per run of times. */
export interface IsoTimeFormatter {
  format(ms: number): string;
}

// Our own constant text (above), turned into the class once.
export const IsoTimeFormatter = new Function(`${ISO_TIME_FORMATTER_SOURCE}; return IsoTimeFormatter;`)() as new () => IsoTimeFormatter;

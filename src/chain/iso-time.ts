const DAY_MS = 86_400_000;
const TWO = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'));
const THREE = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));

/**
 * `new Date(ms).toISOString()`, faster for runs of times on the same day: the date part is
 * formatted once per day and the time of day by arithmetic. Days whose ISO form is not the
 * plain `YYYY-MM-DDT…Z` (years before 0 or after 9999) go to `toISOString` itself, and so
 * does anything that is not a time (which throws there, as before). A property test holds it
 * equal to `toISOString` over the whole Date range.
 */
export class IsoTimeFormatter {
  private day = Number.NaN;
  private dayPrefix = '';

  format(ms: number): string {
    if (!Number.isSafeInteger(ms)) return new Date(ms).toISOString();
    const day = Math.floor(ms / DAY_MS);
    if (day !== this.day) {
      const text = new Date(day * DAY_MS).toISOString();
      if (text.length !== 24) return new Date(ms).toISOString();
      this.day = day;
      this.dayPrefix = text.slice(0, 11);
    }
    let rest = ms - day * DAY_MS;
    const h = Math.floor(rest / 3_600_000);
    rest -= h * 3_600_000;
    const m = Math.floor(rest / 60_000);
    rest -= m * 60_000;
    const s = Math.floor(rest / 1000);
    return `${this.dayPrefix}${TWO[h]!}:${TWO[m]!}:${TWO[s]!}.${THREE[rest - s * 1000]!}Z`;
  }
}

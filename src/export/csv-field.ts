/** Whether a value would be read as a formula by a spreadsheet: it starts with = + - @ TAB or CR. */
export function startsLikeFormula(value: string): boolean {
  const c = value.charCodeAt(0);
  return c === 0x3d || c === 0x2b || c === 0x2d || c === 0x40 || c === 0x09 || c === 0x0d;
}

/** Characters that force RFC 4180 quoting. Nothing else is ever quoted. */
const NEEDS_QUOTES = /[",\r\n]/;

/**
 * Encodes one CSV field: the formula guard first (a leading `'`), then RFC 4180 quoting.
 * The guard comes before quoting and before hashing, so the guarded text is what the file
 * holds and what the row chain covers; a verifier never has to undo it.
 */
export function csvField(value: string): string {
  const guarded = startsLikeFormula(value) ? `'${value}` : value;
  return NEEDS_QUOTES.test(guarded) ? `"${guarded.replaceAll('"', '""')}"` : guarded;
}

import fc from 'fast-check';

/** SQL that would do harm if any of it were ever interpreted rather than bound. */
export const SQL_INJECTIONS = [
  "' OR '1'='1",
  "' OR 1=1 --",
  "'; DROP TABLE audit_entries; --",
  '"; DELETE FROM users; --',
  "') UNION SELECT id, password_hash, 1, 1 FROM users --",
  "1; SELECT pg_sleep(3) --",
  "x' AND (SELECT COUNT(*) FROM sessions) > 0 --",
  "%' OR resource_id LIKE '%",
  "\\'; UPDATE audit_chain_head SET seq = 0; --",
  "admin'/*",
  "1' ORDER BY 1--",
  "$1",
  '?',
];

/** Search syntax of SQLite FTS5 and PostgreSQL tsquery, which `q` must never pass through. */
export const SEARCH_SYNTAX = [
  '"',
  '"unterminated',
  '""',
  'NEAR(rotation started)',
  'rotation OR sync',
  'rotation AND NOT sync',
  'rotation NOT',
  '*',
  'rot*',
  '^rotation',
  'action:rotation',
  '{action description}:rotation',
  '-rotation',
  '+rotation',
  'rotation & !sync',
  'rotation | sync',
  '!rotation',
  'rot:*',
  'rotation <-> started',
  '(rotation',
  "rotation')",
  ':*',
  '\\',
  '%',
  '_',
  '[a-z]',
  'a:b:c',
];

/** Characters that break parsers, terminals, headers, spreadsheets and encodings. */
export const NASTY_CHARS = [
  ...Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)),
  '\u007f', '\u0085', '\u00a0', '\u2028', '\u2029', '\u202e', '\u200b', '\ufeff', '\ufffd', '\uffff',
  '"', "'", '`', '\\', ',', ';', '=', '+', '-', '@', '%', '&', '<', '>', '{', '}', '[', ']', '|', '$', '#',
  '🔐', '𝕏', 'é', 'e\u0301', '管', 'ß',
];

/** Halves of surrogate pairs: not well-formed Unicode, yet valid in JSON as escapes. */
export const LONE_SURROGATES = ['\ud800', '\udbff', '\udc00', '\udfff'];

export const OTHER_HOSTILE = [
  '../../../../etc/passwd',
  '..\\..\\windows\\win.ini',
  '<script>alert(1)</script>',
  '${jndi:ldap://127.0.0.1/x}',
  '{{7*7}}',
  '%s%s%n%x',
  "=cmd|' /C calc'!A0",
  '@SUM(1+1)*cmd|" /C calc"!A0',
  '+1+1',
  '-2+3',
  '\tleading tab',
  '\r\nSet-Cookie: stolen=1',
  'header\r\nX-Injected: yes',
  'a\u0000b',
  '__proto__',
  'constructor',
  'null',
  'undefined',
  'NaN',
  '-0',
  '1e309',
  '0x7fffffffffffffff',
  'Zoë 管理者 🔐',
];

/** Strings of length [min, max] drawn mostly from the hostile sets above, sometimes at random. */
export function hostileString(min = 0, max = 64): fc.Arbitrary<string> {
  const cap = Math.min(max, 2_000);
  const fit = (s: string): string => {
    let out = s;
    while (out.length < min) out += s.length > 0 ? s : 'x';
    return out.slice(0, cap);
  };
  return fc
    .oneof(
      { weight: 3, arbitrary: fc.constantFrom(...SQL_INJECTIONS, ...SEARCH_SYNTAX, ...OTHER_HOSTILE) },
      { weight: 3, arbitrary: fc.string({ unit: fc.constantFrom(...NASTY_CHARS, ...LONE_SURROGATES, 'a', 'b', ' '), maxLength: Math.min(cap, 40) }) },
      { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: Math.min(cap, 40) }) },
      { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: Math.min(cap, 40) }) },
      { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...SQL_INJECTIONS, ...SEARCH_SYNTAX), fc.constantFrom(...NASTY_CHARS)).map(([a, b]) => `${b}${a}${b}`) },
      { weight: 1, arbitrary: fc.constant('x'.repeat(cap)) },
    )
    .map(fit);
}

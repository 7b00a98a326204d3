import { invalid } from '../lib/errors.js';

const MAX_TERMS = 10;

/**
 * Splits a search string into words of letters and digits — the same split both backends'
 * indexes use — so nothing typed can reach the FTS or tsquery syntax. Each word is later
 * matched as a prefix.
 */
export function searchTerms(q: string): string[] {
  const terms = words(q);
  if (terms.length === 0) throw invalid('q must contain at least one letter or digit', { field: 'querystring.q' });
  if (terms.length > MAX_TERMS) throw invalid(`q may hold at most ${MAX_TERMS} words`, { field: 'querystring.q' });
  return [...new Set(terms)];
}

/** The words of a text: NFKC, lower case, split on everything but letters and digits. */
function words(text: string): string[] {
  return text.normalize('NFKC').toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(Boolean);
}

/** PostgreSQL keeps no word of 2,048 bytes or more in a tsvector (to_tsvector skips them too). */
const MAX_TERM_BYTES = 2_047;

/**
 * The words an entry is found by (event type, actor name, description, resource name and
 * id), split exactly as `searchTerms` splits a query, each once. PostgreSQL stores them as the
 * entry's tsvector; SQLite's FTS5 index splits the same columns with its own tokenizer.
 */
export function indexTerms(texts: ReadonlyArray<string | null>): string[] {
  const terms = new Set<string>();
  for (const text of texts) {
    if (text) for (const w of words(text)) if (w.length * 3 <= MAX_TERM_BYTES || Buffer.byteLength(w) <= MAX_TERM_BYTES) terms.add(w);
  }
  return [...terms];
}

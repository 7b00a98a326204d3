import { invalid } from '../lib/errors.js';

const MAX_TERMS = 10;

/**
 * Splits a search string into words of letters and digits — the same split both backends'
 * indexes use — so nothing typed can reach the FTS or tsquery syntax. Each word is later
 * matched as a prefix.
 */
export function searchTerms(q: string): string[] {
  const terms = q.normalize('NFKC').toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(Boolean);
  if (terms.length === 0) throw invalid('q must contain at least one letter or digit', { field: 'querystring.q' });
  if (terms.length > MAX_TERMS) throw invalid(`q may hold at most ${MAX_TERMS} words`, { field: 'querystring.q' });
  return [...new Set(terms)];
}

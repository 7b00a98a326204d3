import type { StoredEntry } from './audit-entry.js';
import type { AuditFilter } from './audit.store.js';

/**
 * Whether a just-committed entry belongs to a live view: the in-memory twin of
 * `filterToSql`, so the live stream shows exactly what `GET /api/audit` would list.
 *
 * Search words match like the indexes do: the searched text (action, actor name,
 * description, resource name and id) is split into words of letters and digits, and every
 * search word must be the start of one of them (case- and accent-insensitive).
 */
export function entryMatches(filter: AuditFilter, entry: StoredEntry): boolean {
  if (filter.start !== undefined && entry.ts < filter.start) return false;
  if (filter.end !== undefined && entry.ts > filter.end) return false;
  if (filter.actions && filter.actions.length > 0 && !filter.actions.includes(entry.action)) return false;
  if (filter.actor !== undefined && entry.actor.name !== filter.actor && entry.actor.id !== filter.actor) return false;
  if (filter.actorType !== undefined && entry.actor.type !== filter.actorType) return false;
  if (filter.severities && filter.severities.length > 0 && !filter.severities.includes(entry.severity)) return false;
  if (filter.resource !== undefined) {
    const r = entry.resource;
    if (r.type !== filter.resource && r.id !== filter.resource && r.name !== filter.resource) return false;
  }
  if (filter.searchTokens && filter.searchTokens.length > 0) {
    const words = searchableWords(entry);
    for (const token of filter.searchTokens) {
      const t = fold(token);
      if (!words.some((w) => w.startsWith(t))) return false;
    }
  }
  return true;
}

function searchableWords(entry: StoredEntry): string[] {
  const text = [entry.action, entry.actor.name ?? '', entry.description, entry.resource.name ?? '', entry.resource.id].join(' ');
  return fold(text).split(/[^\p{L}\p{N}]+/u).filter(Boolean);
}

/** Lower case without accents: SQLite's unicode61 tokenizer folds both the same way. */
function fold(s: string): string {
  return s.normalize('NFKD').replace(/\p{M}+/gu, '').normalize('NFKC').toLowerCase();
}

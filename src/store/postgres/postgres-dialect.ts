import type { Dialect } from '../sql-database.js';

export const postgresDialect: Dialect = {
  name: 'postgres',
  skipLocked: ' FOR UPDATE SKIP LOCKED',
  lockForUpdate: ' FOR UPDATE',
  appendLock: 'LOCK TABLE ONLY audit_entries IN ROW EXCLUSIVE MODE',
  maxParams: 65_000,
  migrationLock: 'SELECT pg_advisory_xact_lock(7240301)',
  insertRows(table, columns, rows) {
    if (rows.length === 0) return [];
    const arrays = columns.map((_, c) => rows.map((row) => row[c] ?? null));
    const names = columns.map(([name]) => name).join(', ');
    const unnest = columns.map(([, type]) => `?::${type}[]`).join(', ');
    return [[`INSERT INTO ${table} (${names}) SELECT * FROM unnest(${unnest})`, arrays]];
  },
  // The search column holds the entry's index terms as a tsvector, and a query is a tsquery of
  // the query's terms, both split in JavaScript the one way (search-terms.ts): no text-search
  // parser on either side, so what is stored and what is asked can never be split apart.
  // Terms are letters and digits only, so quoting cannot be escaped and no operator slips in.
  // The type sorts and de-duplicates; no positions are kept (search matches words and prefixes).
  searchVector: (terms) => terms.map((t) => `'${t}'`).join(' '),
  searchPredicate(tokens) {
    const query = tokens.map((t) => `'${t}':*`).join(' & ');
    return { sql: 'search @@ ?::tsquery', params: [query] };
  },
};

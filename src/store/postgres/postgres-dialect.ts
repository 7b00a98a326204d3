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
  searchPredicate(tokens) {
    // Tokens are letters and digits only (see search-terms.ts): no tsquery operator can slip in.
    const query = tokens.map((t) => `${t}:*`).join(' & ');
    return { sql: `search @@ to_tsquery('simple', ?)`, params: [query] };
  },
};

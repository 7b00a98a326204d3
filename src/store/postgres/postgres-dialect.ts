import type { Dialect } from '../sql-database.js';

export const postgresDialect: Dialect = {
  name: 'postgres',
  skipLocked: ' FOR UPDATE SKIP LOCKED',
  lockForUpdate: ' FOR UPDATE',
  maxParams: 65_000,
  migrationLock: 'SELECT pg_advisory_xact_lock(7240301)',
  searchPredicate(tokens) {
    // Tokens are letters and digits only (see search-terms.ts): no tsquery operator can slip in.
    const query = tokens.map((t) => `${t}:*`).join(' & ');
    return { sql: `search @@ to_tsquery('simple', ?)`, params: [query] };
  },
};

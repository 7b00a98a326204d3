import type { Dialect } from '../sql-database.js';

export const sqliteDialect: Dialect = {
  name: 'sqlite',
  skipLocked: '',
  lockForUpdate: '',
  maxParams: 32_000,
  migrationLock: null,
  searchPredicate(tokens) {
    // Tokens are letters and digits only (see search-terms.ts), so quoting cannot be escaped.
    const match = tokens.map((t) => `"${t}"*`).join(' AND ');
    return { sql: 'seq IN (SELECT rowid FROM audit_fts WHERE audit_fts MATCH ?)', params: [match] };
  },
};

import type { Dialect, SqlValue } from '../sql-database.js';

export const sqliteDialect: Dialect = {
  // One writer at a time, behind the file lock: nothing to retry.
  isConflict: () => false,
  name: 'sqlite',
  skipLocked: '',
  lockForUpdate: '',
  appendLock: null,
  maxParams: 32_000,
  migrationLock: null,
  insertRows(table, columns, rows) {
    const perStatement = Math.min(500, Math.floor(this.maxParams / columns.length));
    const rowSql = `(${columns.map(() => '?').join(', ')})`;
    const statements: Array<[string, SqlValue[]]> = [];
    for (let i = 0; i < rows.length; i += perStatement) {
      const chunk = rows.slice(i, i + perStatement);
      statements.push([`INSERT INTO ${table} (${columns.map(([name]) => name).join(', ')}) VALUES ${chunk.map(() => rowSql).join(', ')}`, chunk.flat()]);
    }
    return statements;
  },
  searchVector: null,
  searchPredicate(tokens) {
    // Tokens are letters and digits only (see search-terms.ts), so quoting cannot be escaped.
    const match = tokens.map((t) => `"${t}"*`).join(' AND ');
    return { sql: 'seq IN (SELECT rowid FROM audit_fts WHERE audit_fts MATCH ?)', params: [match] };
  },
};

import type { Dialect, SqlValue } from '../sql-database.js';

type Columns = Parameters<Dialect['insertRows']>[1];
/** INSERT texts by column list, then table and row count: each size's text is built once. */
const insertTexts = new WeakMap<Columns, Map<string, string>>();

function insertText(table: string, columns: Columns, rows: number): string {
  let texts = insertTexts.get(columns);
  if (!texts) insertTexts.set(columns, (texts = new Map()));
  const key = `${table} ${rows}`;
  let text = texts.get(key);
  if (text === undefined) {
    const rowSql = `(${columns.map(() => '?').join(', ')})`;
    text = `INSERT INTO ${table} (${columns.map(([name]) => name).join(', ')}) VALUES ${Array.from({ length: rows }, () => rowSql).join(', ')}`;
    texts.set(key, text);
  }
  return text;
}

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
    const statements: Array<[string, SqlValue[]]> = [];
    for (let i = 0; i < rows.length; i += perStatement) {
      const chunk = rows.slice(i, i + perStatement);
      statements.push([insertText(table, columns, chunk.length), chunk.flat()]);
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

import type { Dialect, SqlValue } from '../sql-database.js';

const NEEDS_ESCAPE = /["\\]/;

/**
 * Column `c` of `rows` as a PostgreSQL array literal: numbers bare, every string quoted (so
 * "NULL", "", braces and commas stay text) with `"` and `\` backslash-escaped, null as NULL.
 * The same text node-postgres writes for a JS array parameter.
 */
export function arrayLiteral(rows: ReadonlyArray<readonly (SqlValue | readonly SqlValue[])[]>, c: number): string {
  let out = '{';
  for (let i = 0; i < rows.length; i++) {
    if (i > 0) out += ',';
    const v = rows[i]![c];
    if (v === null || v === undefined) out += 'NULL';
    else if (typeof v === 'number' || typeof v === 'bigint') out += String(v);
    else if (typeof v === 'string') out += `"${NEEDS_ESCAPE.test(v) ? v.replace(/[\\"]/g, '\\$&') : v}"`;
    else throw new Error('array literal: nested arrays are not written by Trailmark');
  }
  return `${out}}`;
}

export const postgresDialect: Dialect = {
  name: 'postgres',
  skipLocked: ' FOR UPDATE SKIP LOCKED',
  lockForUpdate: ' FOR UPDATE',
  appendLock: 'LOCK TABLE ONLY audit_entries IN ROW EXCLUSIVE MODE',
  maxParams: 65_000,
  migrationLock: 'SELECT pg_advisory_xact_lock(7240301)',
  insertRows(table, columns, rows) {
    if (rows.length === 0) return [];
    // Each column as one array literal, written here rather than by the driver when the query
    // is sent: a batch's next part is then ready the moment the database has taken the last.
    const arrays = columns.map((_, c) => arrayLiteral(rows, c));
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

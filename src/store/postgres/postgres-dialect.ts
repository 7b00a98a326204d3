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

/**
 * The append gate, an advisory lock every batch holds shared for its transaction and every
 * append under the head lock (an append with work of its own) takes exclusively, first of all.
 * Such an append links after the head it has locked, so an uncommitted batch with rows at those
 * seqs would deadlock with it (each waiting for the other's row or head lock); through the gate
 * it starts only when no batch is open, and batches opened meanwhile wait for it. Those appends
 * are rare (sign-ins, tokens, user changes); batches never wait for each other here.
 */
const APPEND_GATE_KEY = '7240311, 0';
export const APPEND_GATE_SHARED = `SELECT pg_advisory_xact_lock_shared(${APPEND_GATE_KEY})`;

/** unique_violation, deadlock_detected, lock_not_available, serialization_failure. */
const CONFLICT_CODES: ReadonlySet<string> = new Set(['23505', '40P01', '55P03', '40001']);

export const postgresDialect: Dialect = {
  isConflict: (err) => CONFLICT_CODES.has((err as { code?: unknown } | null)?.code as string),
  name: 'postgres',
  skipLocked: ' FOR UPDATE SKIP LOCKED',
  lockForUpdate: ' FOR UPDATE',
  appendLock: `SELECT pg_advisory_xact_lock(${APPEND_GATE_KEY}); LOCK TABLE ONLY audit_entries IN ROW EXCLUSIVE MODE`,
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

import type { Database as SqliteConnection, Statement as SqliteStatement } from 'better-sqlite3';
import type pg from 'pg';
import type { AuditSqlOptions, SqlStatement } from '../../src/audit/audit-filter-sql.js';
import { countStatement, pageStatement } from '../../src/audit/audit-filter-sql.js';
import { TOTAL_CAP } from '../../src/audit/audit.service.js';
import { postgresDialect } from '../../src/store/postgres/postgres-dialect.js';
import { sqliteDialect } from '../../src/store/sqlite/sqlite-dialect.js';
import type { BackendName } from './backend.js';
import type { LogShape, QueryCase } from './query-cases.js';
import { openRawPgClient, openRawSqlite, toPgSql } from './raw-db.js';

export type Statement = SqlStatement;

/** The statements `SqlAuditStore.page()` and `count()` run for a case: the same builders, SQL and parameters. */
export function caseStatements(backend: BackendName, q: QueryCase): Statement[] {
  const options: AuditSqlOptions = backend === 'sqlite' ? { dialect: sqliteDialect, timePartitioned: false } : { dialect: postgresDialect, timePartitioned: true };
  const page = pageStatement(q.filter, { order: 'newest', limit: q.limit, beforeSeq: q.beforeSeq }, options);
  if (!q.includeTotal) return [page];
  return [page, countStatement(q.filter, TOTAL_CAP, options)];
}

/** Runs a case's statements through the bare driver; resolves with the page's row count. */
export interface RawQueryRunner {
  run(statements: readonly Statement[]): Promise<number>;
  /** Where the log sits in time, for placing the cases' windows. */
  shape(): Promise<LogShape>;
  /** The plan of a statement, for the notes on slow paths. */
  explain(statement: Statement): Promise<string>;
  close(): Promise<void>;
}

export async function openRawQueryRunner(backend: BackendName, location: string): Promise<RawQueryRunner> {
  if (backend === 'sqlite') return new SqliteRunner(openRawSqlite(location, true));
  return new PgRunner(await openRawPgClient(location));
}

class SqliteRunner implements RawQueryRunner {
  private readonly cache = new Map<string, SqliteStatement<unknown[]>>();
  constructor(private readonly conn: SqliteConnection) {}

  run(statements: readonly Statement[]): Promise<number> {
    let first = -1;
    for (const s of statements) {
      let stmt = this.cache.get(s.sql);
      if (!stmt) this.cache.set(s.sql, (stmt = this.conn.prepare<unknown[]>(s.sql)));
      const rows = stmt.all(...s.params);
      if (first < 0) first = rows.length;
    }
    return Promise.resolve(first);
  }

  shape(): Promise<LogShape> {
    const newest = this.conn.prepare('SELECT seq, ts FROM audit_entries ORDER BY seq DESC LIMIT 1').get() as { seq: number; ts: number };
    const middle = this.conn.prepare('SELECT ts FROM audit_entries WHERE seq <= ? ORDER BY seq DESC LIMIT 1').get(Math.floor(newest.seq * 0.75)) as { ts: number };
    return Promise.resolve({ maxSeq: newest.seq, newestTs: newest.ts, middleTs: middle.ts });
  }

  explain(s: Statement): Promise<string> {
    const rows = this.conn.prepare(`EXPLAIN QUERY PLAN ${s.sql}`).all(...s.params) as Array<{ detail: string }>;
    return Promise.resolve(rows.map((r) => r.detail).join('; '));
  }

  close(): Promise<void> {
    this.conn.close();
    return Promise.resolve();
  }
}

class PgRunner implements RawQueryRunner {
  constructor(private readonly client: pg.Client) {}

  async run(statements: readonly Statement[]): Promise<number> {
    let first = -1;
    for (const s of statements) {
      const res = await this.client.query(toPgSql(s.sql), s.params);
      if (first < 0) first = res.rowCount ?? res.rows.length;
    }
    return first;
  }

  async shape(): Promise<LogShape> {
    const newest = (await this.client.query<{ seq: number; ts: number }>('SELECT seq, ts FROM audit_entries ORDER BY seq DESC LIMIT 1')).rows[0]!;
    const middle = (await this.client.query<{ ts: number }>('SELECT ts FROM audit_entries WHERE seq <= $1 ORDER BY seq DESC LIMIT 1', [Math.floor(newest.seq * 0.75)])).rows[0]!;
    return { maxSeq: newest.seq, newestTs: newest.ts, middleTs: middle.ts };
  }

  async explain(s: Statement): Promise<string> {
    const res = await this.client.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${toPgSql(s.sql)}`, s.params);
    return res.rows.map((r) => r['QUERY PLAN'].trim()).join('; ');
  }

  close(): Promise<void> {
    return this.client.end();
  }
}

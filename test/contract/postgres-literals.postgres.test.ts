import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresDatabase, guardCheckSql, inlineParams } from '../../src/store/postgres/postgres-database.js';
import { postgresDialect } from '../../src/store/postgres/postgres-dialect.js';
import type { SqlValue } from '../../src/store/sql-database.js';
import { freshDatabaseUrl } from '../support/backends.js';
import type { TestDatabase } from '../support/backends.js';

/** Any text PostgreSQL can hold (no NUL), weighted towards what array and string literals must escape. */
const text = fc.string({ unit: fc.oneof(fc.constantFrom('"', '\\', "'", ',', '{', '}', ' ', 'NULL', 'é', '😀', '\n'), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }).filter((c) => c !== '\u0000')), maxLength: 12 });

describe('values written into SQL text by Trailmark (PostgreSQL)', () => {
  let tdb: TestDatabase;
  let db: PostgresDatabase;
  beforeAll(async () => {
    tdb = await freshDatabaseUrl('postgres');
    db = await PostgresDatabase.open(tdb.url);
    await db.exec('CREATE TABLE literal_rows (n BIGINT, a TEXT, b TEXT)');
  });
  afterAll(async () => {
    await db.close();
    await tdb.cleanup();
  });

  it('array literals of insertRows come back as the values that went in (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.option(fc.maxSafeInteger(), { nil: null }), text, fc.option(text, { nil: null })), { minLength: 1, maxLength: 20 }), async (rows) => {
        await db.exec('DELETE FROM literal_rows');
        const values: SqlValue[][] = rows.map(([n, a, b]) => [n, a, b]);
        for (const [sql, params] of postgresDialect.insertRows('literal_rows', [['n', 'bigint'], ['a', 'text'], ['b', 'text']], values)) await db.run(sql, params);
        const back = await db.all<{ n: number | null; a: string; b: string | null }>('SELECT n, a, b FROM literal_rows ORDER BY ctid');
        expect(back.map((r) => [r.n, r.a, r.b])).toEqual(values);
      }),
      { numRuns: 60 },
    );
  });

  it('inlineParams writes each value as a literal that reads back unchanged, and refuses what it cannot write (property)', async () => {
    await fc.assert(
      fc.asyncProperty(text, fc.option(fc.maxSafeInteger(), { nil: null }), async (s, n) => {
        const [row] = await db.all<{ s: string; n: number | null }>(inlineParams('SELECT ?::text AS s, ?::bigint AS n', [s, n]));
        expect(row).toMatchObject({ s, n });
      }),
      { numRuns: 200 },
    );
    expect(() => inlineParams('SELECT ?', [['a']])).toThrow(/only numbers, text and null/);
    expect(() => inlineParams('SELECT ?, ?', [1])).toThrow();
    expect(() => inlineParams('SELECT ?', [1, 2])).toThrow(/2 values for 1 placeholders/);
    expect(() => inlineParams('SELECT ?', [Number.NaN])).toThrow();
  });

  it('a batch guard check lets the rest of its text run only when the row holds the expected values (property)', async () => {
    await db.exec('CREATE TABLE IF NOT EXISTS guard_rows (id INT PRIMARY KEY, seq BIGINT NOT NULL, hash TEXT NOT NULL)');
    await fc.assert(
      fc.asyncProperty(fc.maxSafeInteger(), text, fc.boolean(), fc.boolean(), async (seq, hash, sameSeq, sameHash) => {
        await db.exec('DELETE FROM guard_rows; DELETE FROM literal_rows');
        await db.run('INSERT INTO guard_rows (id, seq, hash) VALUES (1, ?, ?)', [seq, hash]);
        const guard = { sql: 'SELECT seq, hash FROM guard_rows WHERE id = ?', params: [1], expect: { seq: sameSeq ? seq : seq - 1, hash: sameHash ? hash : `${hash}x` } };
        const run = db.transaction((tx) => tx.exec(`${guardCheckSql(guard)}; INSERT INTO literal_rows (n, a) VALUES (1, 'after the guard')`));
        if (sameSeq && sameHash) await run;
        else await expect(run).rejects.toMatchObject({ code: 'TMG01' });
        expect((await db.all('SELECT n FROM literal_rows')).length).toBe(sameSeq && sameHash ? 1 : 0);
      }),
      { numRuns: 60 },
    );
    expect(() => guardCheckSql({ sql: 'SELECT ? AS hash', params: ['$guard$'], expect: {} })).toThrow(/\$guard\$/);
  });
});

import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Actor, StoredEntry } from '../../src/audit/audit-entry.js';
import { ACTOR_TYPES } from '../../src/audit/audit-entry.js';
import { AuditRecorder } from '../../src/audit/audit-recorder.js';
import type { RecordInput } from '../../src/audit/audit-recorder.js';
import type { EntryRow } from '../../src/audit/entry-row.js';
import { ENTRY_COLUMNS, ENTRY_SELECT, entryInsertStatements, rowToEntry } from '../../src/audit/entry-row.js';
import { SqlAuditStore } from '../../src/audit/sql-audit-store.js';
import { Catalog } from '../../src/catalog/catalog.js';
import { CATEGORIES, SEVERITIES } from '../../src/catalog/event-definitions.js';
import { canonicalJson } from '../../src/chain/canonical-json.js';
import { chainHash } from '../../src/chain/entry-hash.js';
import { verifyStoredChain } from '../../src/chain/verify-stored-chain.js';
import { ManualClock } from '../../src/lib/clock.js';
import { migrate } from '../../src/store/migrator.js';
import { openDatabase } from '../../src/store/open-database.js';
import type { SqlDatabase, SqlValue } from '../../src/store/sql-database.js';
import { SAMPLE_DETAILS, buildEvent } from '../support/audit-fixtures.js';
import { BACKENDS, freshDatabaseUrl } from '../support/backends.js';
import type { TestDatabase } from '../support/backends.js';

type Column = (typeof ENTRY_COLUMNS)[number];

/** How many entries each test starts with; the head is at seq N. */
const N = 30;
const HASH_MISMATCH = 'stored hash does not match the entry contents';
const PREV_MISMATCH = 'prev_hash does not match the hash of the previous entry';

const ACTORS: Actor[] = [
  { type: 'user', id: 'u-1', name: 'Zoë 管理者' },
  { type: 'worker', id: 'tok-1', name: 'rotation-worker' },
  { type: 'system', id: null, name: null },
  { type: 'user', id: 'u-2', name: '' },
];

/** N entries over every kind of event, with and without the optional parts, in uneven batches. */
async function recordVaried(recorder: AuditRecorder, clock: ManualClock): Promise<void> {
  const actions = Object.keys(SAMPLE_DETAILS);
  const events: RecordInput[] = Array.from({ length: N }, (_, i) =>
    buildEvent(actions[(i * 7) % actions.length], {
      actor: ACTORS[i % ACTORS.length]!,
      resource: { id: `res-${i}`, name: i % 4 === 0 ? null : `résource ${i} "🔐"`, ...(i % 5 === 0 ? { type: 'secret' } : {}) },
      occurredAt: i % 2 === 0 ? null : Date.UTC(2026, 0, 1) + i,
      source: i % 3 === 0 ? { ip: '203.0.113.9', user_agent: 'Mozilla/5.0 (X11; "quoted")\ttab', token_id: 'tok-1' } : undefined,
      requestId: i % 5 === 1 ? null : `req-${i}`,
    }),
  );
  let at = 0;
  for (const size of [1, 5, 1, 10, 3, 10]) {
    await recorder.recordBatch(events.slice(at, at + size));
    at += size;
    clock.advance(1_234);
  }
}

const texts = fc.string({ unit: 'grapheme', maxLength: 24 }).map((s) => s.replaceAll('\u0000', '')); // PostgreSQL text holds no NUL
const time = fc.date({ noInvalidDate: true }).map((d) => d.getTime());
const hex32 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex'));
const textOr = (orig: string, ...more: Array<fc.Arbitrary<string>>): fc.Arbitrary<string> =>
  fc.oneof(texts, fc.constant(`${orig} `), fc.constant(orig.toUpperCase()), fc.constant(orig.slice(1)), ...more);
const nullableText = (orig: string | null): fc.Arbitrary<string | null> => (orig === null ? fc.option(texts, { nil: null, freq: 2 }) : fc.option(textOr(orig), { nil: null }));
const hashText = (orig: string): fc.Arbitrary<string> => fc.oneof(hex32, fc.constant(orig.toUpperCase()));

/** For every column of audit_entries, values of its type that differ from the stored one. */
const COLUMN_VALUES: { [C in Column]: (row: EntryRow) => fc.Arbitrary<SqlValue> } = {
  // Any other seq is free only below the anchor or above the head.
  seq: () => fc.oneof(fc.integer({ min: -1_000, max: 0 }), fc.integer({ min: N + 1, max: 2 ** 31 - 1 })),
  id: (r) => fc.oneof(fc.uuid(), textOr(r.id)),
  ts: (r) => fc.oneof(fc.integer({ min: -100_000, max: 100_000 }).map((d) => r.ts + d), time),
  occurred_at: (r) => fc.option(r.occurred_at === null ? time : fc.oneof(time, fc.constant(r.occurred_at + 1)), { nil: null }),
  action: (r) => textOr(r.action, fc.constantFrom(...Object.keys(SAMPLE_DETAILS))),
  category: (r) => textOr(r.category, fc.constantFrom(...CATEGORIES)),
  severity: (r) => textOr(r.severity, fc.constantFrom(...SEVERITIES)),
  actor_type: (r) => textOr(r.actor_type, fc.constantFrom(...ACTOR_TYPES)),
  actor_id: (r) => nullableText(r.actor_id),
  actor_name: (r) => nullableText(r.actor_name),
  resource_type: (r) => textOr(r.resource_type),
  resource_id: (r) => textOr(r.resource_id),
  resource_name: (r) => nullableText(r.resource_name),
  description: (r) => textOr(r.description),
  // Valid JSON; the first choice means the same as the stored text, in other bytes.
  details: (r) => fc.oneof(fc.constant(` ${r.details}`), fc.dictionary(texts, fc.jsonValue({ maxDepth: 2 })).map(canonicalJson)),
  source_ip: (r) => nullableText(r.source_ip),
  source_user_agent: (r) => nullableText(r.source_user_agent),
  source_token_id: (r) => nullableText(r.source_token_id),
  request_id: (r) => nullableText(r.request_id),
  prev_hash: (r) => hashText(r.prev_hash),
  hash: (r) => hashText(r.hash),
};

/** What verification says when `column` of the row at `seq` was changed. */
function expectedFailure(column: Column, seq: number): { first_bad_seq: number; reason: string } {
  if (column === 'seq') {
    // The row left the range 1..N: its old seq is now a gap (or, for the newest, the head points past the rows).
    return { first_bad_seq: seq, reason: seq < N ? `seq ${seq} is missing (next stored is ${seq + 1})` : `entries after seq ${N - 1} are missing (chain head is ${N})` };
  }
  return { first_bad_seq: seq, reason: column === 'prev_hash' ? PREV_MISMATCH : HASH_MISMATCH };
}

for (const backend of BACKENDS) {
  describe(`stored chain tamper evidence (${backend})`, () => {
    let tdb: TestDatabase;
    let db: SqlDatabase;
    let store: SqlAuditStore;
    let recorder: AuditRecorder;
    let rows: EntryRow[];

    const readRows = (): Promise<EntryRow[]> => db.all<EntryRow>(`SELECT ${ENTRY_SELECT} FROM audit_entries ORDER BY seq`);

    /** Sets one column of the row at `seq`; returns the row's seq afterwards. */
    async function setColumn(seq: number, column: Column, value: SqlValue): Promise<number> {
      expect(await db.run(`UPDATE audit_entries SET ${column} = ? WHERE seq = ?`, [value, seq])).toBe(1);
      return column === 'seq' ? Number(value) : seq;
    }

    async function expectTamperedThenRestored(seq: number, column: Column, value: SqlValue): Promise<void> {
      const original = rows[seq - 1]!;
      expect(value).not.toEqual(original[column]);
      const nowAt = await setColumn(seq, column, value);
      try {
        const result = await verifyStoredChain(store);
        expect(result, `${column} of seq ${seq} set to ${JSON.stringify(value)}`).toMatchObject({ ok: false, ...expectedFailure(column, seq) });
        // The hashing workers, in batches of 7 rows, come to the same verdict.
        expect(await verifyStoredChain(store, { parallelFrom: 1, batchSize: 7 })).toEqual(result);
      } finally {
        await setColumn(nowAt, column, original[column]);
      }
      expect(await db.get<EntryRow>(`SELECT ${ENTRY_SELECT} FROM audit_entries WHERE seq = ?`, [seq])).toEqual(original);
      expect(await verifyStoredChain(store)).toMatchObject({ ok: true, checked: N });
    }

    beforeEach(async () => {
      tdb = await freshDatabaseUrl(backend);
      db = await openDatabase(tdb.url);
      const clock = new ManualClock();
      await migrate(db, () => clock.now());
      store = new SqlAuditStore(db, () => clock.now());
      recorder = new AuditRecorder(new Catalog(), store);
      await recordVaried(recorder, clock);
      rows = await readRows();
      expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: N }, (_, i) => i + 1));
      expect(await verifyStoredChain(store)).toMatchObject({ ok: true, checked: N, from_seq: 1, to_seq: N, head_hash: rows[N - 1]!.hash });
    });

    afterEach(async () => {
      await db.close();
      await tdb.cleanup();
    });

    it('reports an edit to every column at the edited row (first, middle and last row)', async () => {
      const edits: Array<[Column, (r: EntryRow) => SqlValue]> = [
        ['seq', () => N + 1_000], ['seq', () => 0], ['seq', () => -7],
        ['id', (r) => `${r.id}-x`], ['ts', (r) => r.ts + 1], ['occurred_at', (r) => (r.occurred_at === null ? r.ts : null)],
        ['action', () => 'auth.logout'], ['category', (r) => (r.category === 'audit' ? 'system' : 'audit')],
        ['severity', (r) => (r.severity === 'critical' ? 'info' : 'critical')], ['actor_type', (r) => (r.actor_type === 'system' ? 'user' : 'system')],
        ['actor_id', (r) => (r.actor_id === null ? '' : null)], ['actor_name', (r) => (r.actor_name === null ? 'null' : null)],
        ['resource_type', (r) => `${r.resource_type}s`], ['resource_id', (r) => r.resource_id.toUpperCase()],
        ['resource_name', (r) => (r.resource_name === null ? '' : null)], ['description', (r) => `${r.description} `],
        ['details', (r) => ` ${r.details}`], ['source_ip', (r) => (r.source_ip === null ? '127.0.0.1' : null)],
        ['source_user_agent', (r) => (r.source_user_agent === null ? '' : `${r.source_user_agent}!`)],
        ['source_token_id', (r) => (r.source_token_id === null ? 'tok-2' : null)], ['request_id', (r) => (r.request_id === null ? '' : null)],
        ['prev_hash', (r) => r.prev_hash.toUpperCase()], ['hash', (r) => r.hash.toUpperCase()],
        ['prev_hash', () => rows[9]!.hash], ['hash', () => rows[9]!.prev_hash],
      ];
      expect(new Set(edits.map(([c]) => c))).toEqual(new Set(ENTRY_COLUMNS));
      for (const seq of [1, 15, N]) {
        for (const [column, value] of edits) {
          if (value(rows[seq - 1]!) === rows[seq - 1]![column]) continue; // rows[9]'s own links
          await expectTamperedThenRestored(seq, column, value(rows[seq - 1]!));
        }
      }
    });

    it('reports any change to any column of any row at that row (property)', async () => {
      const tamper = fc
        .tuple(fc.integer({ min: 1, max: N }), fc.constantFrom(...ENTRY_COLUMNS))
        .chain(([seq, column]) => COLUMN_VALUES[column](rows[seq - 1]!).filter((v) => v !== rows[seq - 1]![column]).map((value) => ({ seq, column, value })));
      await fc.assert(
        fc.asyncProperty(tamper, async ({ seq, column, value }) => {
          await expectTamperedThenRestored(seq, column, value);
        }),
        { numRuns: 40 },
      );
    });

    it('reports a deleted middle row at its seq', async () => {
      expect(await db.run('DELETE FROM audit_entries WHERE seq = 15')).toBe(1);
      expect(await verifyStoredChain(store)).toMatchObject({ ok: false, checked: 14, first_bad_seq: 15, reason: 'seq 15 is missing (next stored is 16)' });
    });

    it('reports a forged, correctly hashed row after the head as stored beyond the head', async () => {
      const last = rowToEntry(rows[N - 1]!);
      const forge = (seq: number, prevHash: string): StoredEntry => {
        const base = { ...recorder.prepare(buildEvent('user.deleted'), ''), seq, ts: last.ts };
        return { ...base, prev_hash: prevHash, hash: chainHash(prevHash, base) };
      };
      const first = forge(N + 1, last.hash);
      const second = forge(N + 2, first.hash);
      // Forged rows written the way Trailmark writes rows (search vector included).
      const insert = async (e: StoredEntry): Promise<void> => {
        for (const [sql, params] of entryInsertStatements(db.dialect, [e])) await db.run(sql, params);
      };
      await insert(first);
      expect(await verifyStoredChain(store)).toMatchObject({ ok: false, checked: N, first_bad_seq: N + 1, reason: `entries up to seq ${N + 1} are stored beyond the chain head (${N})` });
      await insert(second);
      expect(await verifyStoredChain(store)).toMatchObject({ ok: false, first_bad_seq: N + 1, reason: `entries up to seq ${N + 2} are stored beyond the chain head (${N})` });
      // The forgeries link correctly: only the head gives them away (signed checkpoints guard the head).
      await db.run('UPDATE audit_chain_head SET seq = ?, hash = ? WHERE id = 1', [second.seq, second.hash]);
      expect(await verifyStoredChain(store)).toMatchObject({ ok: true, checked: N + 2 });
    });

    it('reports removed newest rows (truncation) after the last row left', async () => {
      expect(await db.run('DELETE FROM audit_entries WHERE seq > 27')).toBe(3);
      expect(await verifyStoredChain(store)).toMatchObject({ ok: false, checked: 27, to_seq: 27, first_bad_seq: 28, reason: `entries after seq 27 are missing (chain head is ${N})` });
      expect(await db.run('DELETE FROM audit_entries')).toBe(27);
      expect(await verifyStoredChain(store)).toMatchObject({ ok: false, checked: 0, first_bad_seq: 1, reason: `entries after seq 0 are missing (chain head is ${N})` });
    });

    it.each([[10, 11], [3, 27], [1, N]])('reports rows %i and %i with swapped seq at the lower one', async (a, b) => {
      await db.run('UPDATE audit_entries SET seq = -1 WHERE seq = ?', [a]);
      await db.run('UPDATE audit_entries SET seq = ? WHERE seq = ?', [a, b]);
      await db.run('UPDATE audit_entries SET seq = ? WHERE seq = -1', [b]);
      const moved = await readRows();
      expect(moved[a - 1]!.id).toBe(rows[b - 1]!.id);
      expect(await verifyStoredChain(store)).toMatchObject({ ok: false, checked: a - 1, first_bad_seq: a, reason: PREV_MISMATCH });
    });

    it('verifies from a purge checkpoint, ignoring rows at or below it, and still reports tampering after it', async () => {
      await db.run('UPDATE audit_chain_head SET anchor_seq = 10, anchor_hash = ? WHERE id = 1', [rows[9]!.hash]);
      expect(await verifyStoredChain(store)).toMatchObject({ ok: true, checked: N - 10, from_seq: 11, to_seq: N });
      expect(await db.run('DELETE FROM audit_entries WHERE seq <= 10')).toBe(10);
      expect(await verifyStoredChain(store)).toMatchObject({ ok: true, checked: N - 10, from_seq: 11 });
      await db.run("UPDATE audit_entries SET description = 'x' WHERE seq = 12");
      expect(await verifyStoredChain(store)).toMatchObject({ ok: false, first_bad_seq: 12, reason: HASH_MISMATCH });
      await db.run('UPDATE audit_chain_head SET anchor_hash = ? WHERE id = 1', [rows[8]!.hash]);
      expect(await verifyStoredChain(store)).toMatchObject({ ok: false, first_bad_seq: 11, reason: PREV_MISMATCH });
    });

    it('reports an edit whose hashes were recomputed onward at the head, which no longer matches', async () => {
      let prev = rows[18]!.hash;
      for (const row of rows.slice(19)) {
        const e = rowToEntry(row);
        const edited = row.seq === 20 ? { ...e, description: 'nothing to see here' } : e;
        const hash = chainHash(prev, edited);
        await db.run('UPDATE audit_entries SET description = ?, prev_hash = ?, hash = ? WHERE seq = ?', [edited.description, prev, hash, row.seq]);
        prev = hash;
      }
      expect(await verifyStoredChain(store)).toMatchObject({ ok: false, checked: N, first_bad_seq: N, reason: 'chain head does not match the last entry' });
    });
  });
}

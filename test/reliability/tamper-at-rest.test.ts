import { afterAll, describe, it } from 'vitest';
import type { EntryRow } from '../../src/audit/entry-row.js';
import { ENTRY_SELECT, entryInsertStatements, rowToEntry } from '../../src/audit/entry-row.js';
import type { StoredEntry } from '../../src/audit/audit-entry.js';
import { chainHash } from '../../src/chain/entry-hash.js';
import type { SqlDatabase } from '../../src/store/sql-database.js';
import { SAMPLE_DETAILS } from '../support/audit-fixtures.js';
import { BACKENDS, freshDatabaseUrl } from '../support/backends.js';
import type { ServerProcess } from '../support/server-process.js';
import { startWebhookReceiver } from '../support/webhook-receiver.js';
import { runCli } from './helpers/cli.js';
import { recordFigures } from './helpers/figures.js';
import { call, createToken, eventually, signIn } from './helpers/http.js';
import { ADMIN_PASSWORD, SECRET_KEY, startNode, withDatabase } from './helpers/nodes.js';

/** Puts a row back (or a forged one in) the way Trailmark writes rows, search vector included. */
async function insertEntry(db: SqlDatabase, entry: StoredEntry): Promise<void> {
  for (const [sql, params] of entryInsertStatements(db.dialect, [entry])) await db.run(sql, params);
}

async function rowAt(db: SqlDatabase, seq: number): Promise<EntryRow> {
  const row = await db.get<EntryRow>(`SELECT ${ENTRY_SELECT} FROM audit_entries WHERE seq = ?`, [seq]);
  if (!row) throw new Error(`no row at seq ${seq}`);
  return { ...row, seq: Number(row.seq), ts: Number(row.ts), occurred_at: row.occurred_at === null ? null : Number(row.occurred_at) };
}

const headOf = async (db: SqlDatabase): Promise<{ seq: number; hash: string }> => {
  const h = (await db.get<{ seq: number; hash: string }>('SELECT seq, hash FROM audit_chain_head WHERE id = 1'))!;
  return { seq: Number(h.seq), hash: h.hash };
};

/** One direct edit of the database: what it does, the first bad seq it must be reported at, and how to undo it. */
interface Tamper {
  readonly name: string;
  apply(db: SqlDatabase): Promise<{ firstBad: number; undo: ((db: SqlDatabase) => Promise<void>) | null }>;
}

const TAMPERS: Tamper[] = [
  {
    name: 'update a column (description of one entry)',
    async apply(db) {
      const row = await rowAt(db, 10);
      await db.run("UPDATE audit_entries SET description = 'nothing happened here' WHERE seq = 10");
      return { firstBad: 10, undo: async (d) => void (await d.run('UPDATE audit_entries SET description = ? WHERE seq = 10', [row.description])) };
    },
  },
  {
    name: 'delete a row',
    async apply(db) {
      const row = await rowAt(db, 15);
      await db.run('DELETE FROM audit_entries WHERE seq = 15');
      return { firstBad: 15, undo: async (d) => void (await insertEntry(d, rowToEntry(row))) };
    },
  },
  {
    name: 'reorder seq (swap two entries)',
    async apply(db) {
      const swap = async (d: SqlDatabase): Promise<void> => {
        await d.run('UPDATE audit_entries SET seq = -1 WHERE seq = 20');
        await d.run('UPDATE audit_entries SET seq = 20 WHERE seq = 21');
        await d.run('UPDATE audit_entries SET seq = 21 WHERE seq = -1');
      };
      await swap(db);
      return { firstBad: 20, undo: swap };
    },
  },
  {
    name: 'truncate the newest rows',
    async apply(db) {
      const head = await headOf(db);
      const rows = await Promise.all([head.seq - 2, head.seq - 1, head.seq].map((s) => rowAt(db, s)));
      await db.run('DELETE FROM audit_entries WHERE seq > ?', [head.seq - 3]);
      return { firstBad: head.seq - 2, undo: async (d) => { for (const r of rows) await insertEntry(d, rowToEntry(r)); } };
    },
  },
  {
    name: 'insert a row after the head (correctly hashed, head row left alone)',
    // On SQLite the forged row holds the seq the next append needs, so appends fail (closed) until it is removed.
    async apply(db) {
      const head = await headOf(db);
      const last = rowToEntry(await rowAt(db, head.seq));
      const forged = { ...last, id: 'forged-after-head', seq: head.seq + 1, prev_hash: last.hash, description: 'forged' };
      await insertEntry(db, { ...forged, hash: chainHash(last.hash, forged) });
      return { firstBad: head.seq + 1, undo: async (d) => void (await d.run("DELETE FROM audit_entries WHERE id = 'forged-after-head'")) };
    },
  },
  {
    name: 'insert a row in the middle (later rows renumbered, forged row correctly hashed, head moved)',
    async apply(db) {
      const head = await headOf(db);
      const k = 25;
      await db.run('UPDATE audit_entries SET seq = -seq WHERE seq >= ?', [k]);
      await db.run('UPDATE audit_entries SET seq = 1 - seq WHERE seq < 0');
      const before = rowToEntry(await rowAt(db, k - 1));
      const forged = { ...before, id: 'forged-in-the-middle', seq: k, prev_hash: before.hash, description: 'forged' };
      await insertEntry(db, { ...forged, hash: chainHash(before.hash, forged) });
      const newest = await rowAt(db, head.seq + 1);
      await db.run('UPDATE audit_chain_head SET seq = ?, hash = ? WHERE id = 1', [newest.seq, newest.hash]);
      // The row after the forgery no longer links (and its hash covered its old seq).
      return { firstBad: k + 1, undo: null };
    },
  },
];

describe('tamper detection at rest, through the API and the CLI', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const fn of cleanups.reverse()) await fn().catch(() => undefined);
  });

  for (const backend of BACKENDS) {
    it.concurrent(`${backend}: reports each direct edit at its first bad seq, records audit.chain.broken (critical) and forwards it`, async ({ expect }) => {
      const tdb = await freshDatabaseUrl(backend);
      cleanups.push(() => tdb.cleanup());
      const receiver = await startWebhookReceiver();
      cleanups.push(() => receiver.close());
      const server: ServerProcess = await startNode(tdb.url);
      cleanups.push(() => server.stop('SIGKILL'));
      const admin = await signIn(server.url, 'admin', ADMIN_PASSWORD);
      const writer = await createToken(server.url, admin, ['audit:write']);
      const rule = await call(server.url, admin, 'POST', '/api/alert-rules', { name: 'chain alarms', event_types: ['audit.chain.broken'], min_severity: 'critical', channel: { type: 'webhook', url: receiver.url } });
      expect(rule.status, rule.text).toBe(201);
      const actions = Object.keys(SAMPLE_DETAILS);
      const seeded = await call(server.url, writer, 'POST', '/api/audit/events', {
        events: Array.from({ length: 40 }, (_, i) => ({ action: actions[i % actions.length], resource: { type: 'thing', id: `t-${i}`, name: `thing ${i}` }, details: SAMPLE_DETAILS[actions[i % actions.length]!] })),
      });
      expect(seeded.status, seeded.text).toBe(201);

      const caught: string[] = [];
      const problems: string[] = [];
      try {
        for (const tamper of TAMPERS) {
          const { firstBad, undo } = await withDatabase(tdb.url, (db) => tamper.apply(db));
          const label = `${backend}, ${tamper.name}`;
          const before = problems.length;
          const check = (ok: boolean, what: string): void => void (ok || problems.push(`${label}: ${what}`));
          try {
            const api = await call(server.url, admin, 'GET', '/api/audit/verify');
            const body = api.status === 200 ? api.json<{ ok: boolean; first_bad_seq: number | null }>() : null;
            check(api.status === 200 && body?.ok === false && body.first_bad_seq === firstBad, `GET /api/audit/verify should report seq ${firstBad}; answered ${api.status} ${api.text.slice(0, 200)}`);
            const cli = await runCli(['verify'], { DATABASE_URL: tdb.url, SECRET_KEY });
            check(cli.code === 1 && cli.stderr.includes(`BROKEN at seq ${firstBad}:`), `trailmark verify should exit 1 naming seq ${firstBad}; exit ${cli.code}: ${cli.stderr.trim().slice(-200)}`);
            // Recorded and forwarded, wherever the store can still append; where it cannot, everything fails closed.
            const probe = await call(server.url, writer, 'POST', '/api/audit/events', { events: [{ action: 'sync.completed', resource: { type: 'sync_job', id: 'probe' }, details: SAMPLE_DETAILS['sync.completed'] }] });
            if (probe.status === 201) {
              const recorded = await call(server.url, admin, 'GET', '/api/audit?action=audit.chain.broken&limit=1');
              const entry = recorded.json<{ items: Array<{ seq: number; severity: string; details: { first_bad_seq: number } }> }>().items[0];
              check(entry?.severity === 'critical' && entry.details.first_bad_seq === firstBad, `audit.chain.broken (critical, first_bad_seq ${firstBad}) should be recorded; newest is ${JSON.stringify(entry)}`);
              const forwarded = entry
                ? await eventually(`${label}: audit.chain.broken forwarded`, async () => (receiver.calls.some((c) => c.status === 200 && (JSON.parse(c.body) as { entry: { seq: number } }).entry.seq === entry.seq) ? true : undefined), 20_000, 200).catch(() => false)
                : false;
              check(forwarded, 'audit.chain.broken should be forwarded to the alert rule’s webhook');
            } else {
              check(probe.status === 503, `ingest should succeed or be refused with 503; answered ${probe.status}`);
              const audited = await call(server.url, admin, 'POST', '/api/tokens', { name: 'blocked', scopes: ['audit:read'] });
              check(audited.status === 503, `with appends blocked, an audited action should be refused with 503; answered ${audited.status} ${audited.text.slice(0, 120)}`);
            }
          } finally {
            if (undo) {
              await withDatabase(tdb.url, (db) => undo(db));
              const again = await call(server.url, admin, 'GET', '/api/audit/verify');
              check(again.status === 200 && again.json<{ ok: boolean }>().ok, `should verify again once undone; answered ${again.status} ${again.text.slice(0, 200)}`);
            }
          }
          if (problems.length === before) caught.push(tamper.name);
        }
      } finally {
        recordFigures(`tamper-${backend}`, { tamper_cases_caught: caught.length }, { cases: TAMPERS.map((t) => t.name), caught });
      }
      expect(problems).toEqual([]);
    }, 300_000);
  }
});

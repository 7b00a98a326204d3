import { afterAll, describe, expect, it } from 'vitest';
import { openCore } from '../../src/app.js';
import type { EntryRow } from '../../src/audit/entry-row.js';
import { ENTRY_SELECT, rowToEntry } from '../../src/audit/entry-row.js';
import { ChainVerifier } from '../../src/chain/chain-verifier.js';
import { ManualClock } from '../../src/lib/clock.js';
import { SAMPLE_DETAILS, buildEvent } from '../support/audit-fixtures.js';
import { freshDatabaseUrl } from '../support/backends.js';
import type { TestDatabase } from '../support/backends.js';
import type { ServerProcess } from '../support/server-process.js';
import { runCli } from './helpers/cli.js';
import { recordFigures } from './helpers/figures.js';
import { call, createToken, eventually, signIn } from './helpers/http.js';
import { ADMIN_PASSWORD, SECRET_KEY, startNode, withDatabase } from './helpers/nodes.js';

const NODES = 3;
const CLIENTS_PER_NODE = 5;
const OLD_ENTRIES = 300;
const DAY = 86_400_000;

interface Ack {
  id: string;
  seq: number;
  hash: string;
}

describe('three Trailmark nodes on one PostgreSQL, under ingest and retention', () => {
  let tdb: TestDatabase;
  let nodes: ServerProcess[] = [];

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop('SIGKILL')));
    await tdb?.cleanup();
  });

  it('keeps one linear chain and runs each scheduled job once', async () => {
    tdb = await freshDatabaseUrl('postgres');
    // History older than the retention period (90 days), written as if 120 days ago.
    const seeder = await openCore({ databaseUrl: tdb.url, clock: new ManualClock(Date.now() - 120 * DAY), secretKey: SECRET_KEY });
    await seeder.users.ensureFirstAdmin(ADMIN_PASSWORD);
    for (let i = 0; i < OLD_ENTRIES; i += 100) await seeder.recorder.recordBatch(Array.from({ length: 100 }, () => buildEvent('discovery.scan.completed')));
    // Retention is not due at start; the test makes it due while the nodes ingest.
    await seeder.db.run("INSERT INTO scheduled_jobs (name, next_run_at, lease_until) VALUES ('retention', ?, 0)", [Date.now() + 365 * DAY]);
    await seeder.close();

    // Started together on one schema: the partitions job is due on all three at once.
    nodes = await Promise.all(Array.from({ length: NODES }, () => startNode(tdb.url)));
    const admin = await signIn(nodes[0]!.url, 'admin', ADMIN_PASSWORD);
    const writer = await createToken(nodes[1]!.url, admin, ['audit:write']);

    const acked: Ack[] = [];
    const failures: string[] = [];
    let stop = false;
    const load = Promise.all(
      nodes.flatMap((node, n) =>
        Array.from({ length: CLIENTS_PER_NODE }, async (_, c) => {
          for (let r = 0; !stop; r++) {
            const size = 1 + ((c * 7 + r * 3) % 25);
            const events = Array.from({ length: size }, (_, i) => ({ action: 'sync.completed', resource: { type: 'sync_job', id: `mn-${n}-${c}-${r}-${i}` }, details: SAMPLE_DETAILS['sync.completed'] }));
            const res = await call(node.url, writer, 'POST', '/api/audit/events', { events });
            if (res.status === 201) acked.push(...res.json<{ entries: Ack[] }>().entries);
            else failures.push(`${res.status} ${res.text}`);
          }
        }),
      ),
    );

    await new Promise((r) => setTimeout(r, 1_000));
    // The daily retention falls due on every node; their schedulers tick every 15 s.
    await withDatabase(tdb.url, (db) => db.run("UPDATE scheduled_jobs SET next_run_at = 0 WHERE name = 'retention'"));
    await eventually('a node to run the due retention', () =>
      withDatabase(tdb.url, async (db) => {
        const job = await db.get<{ next_run_at: number; last_status: string | null }>("SELECT next_run_at, last_status FROM scheduled_jobs WHERE name = 'retention'");
        return Number(job?.next_run_at) > Date.now() && job?.last_status ? job : undefined;
      }), 40_000, 500);
    // Then operators start retention by hand on several machines at once, still under load.
    const cli = await Promise.all(Array.from({ length: 3 }, () => runCli(['retention', 'run'], { DATABASE_URL: tdb.url, SECRET_KEY })));
    await new Promise((r) => setTimeout(r, 1_000));
    stop = true;
    await load;
    // No request fails while retention drops old partitions beside the appends.
    expect(failures.slice(0, 3), `${failures.length} ingest requests failed`).toEqual([]);

    const cliCompleted = cli.filter((r) => r.code === 0).length;
    for (const r of cli) expect(r.code === 0 || /running on another node/.test(r.stderr), r.stderr).toBe(true);

    const state = await withDatabase(tdb.url, async (db) => ({
      rows: (await db.all<EntryRow>(`SELECT ${ENTRY_SELECT} FROM audit_entries ORDER BY seq`)).map(rowToEntry),
      head: (await db.get<{ seq: number; hash: string; anchor_seq: number; anchor_hash: string }>('SELECT seq, hash, anchor_seq, anchor_hash FROM audit_chain_head WHERE id = 1'))!,
      jobs: await db.all<{ name: string; lease_owner: string | null; next_run_at: number }>('SELECT name, lease_owner, next_run_at FROM scheduled_jobs ORDER BY name'),
    }));
    const { rows, head } = state;

    // One linear chain: from the retention anchor to the head, every seq once, every link right.
    const verifier = new ChainVerifier({ seq: Number(head.anchor_seq), hash: head.anchor_hash });
    for (const e of rows) verifier.push(e);
    expect(verifier.finish({ seq: Number(head.seq), hash: head.hash })).toMatchObject({ ok: true, first_bad_seq: null });
    expect(rows[0]!.seq).toBe(Number(head.anchor_seq) + 1);
    expect(rows.every((e, i) => i === 0 || e.ts >= rows[i - 1]!.ts)).toBe(true);
    // Every acknowledged event is there, as acknowledged.
    const bySeq = new Map(rows.map((e) => [e.seq, e]));
    expect(acked.filter((a) => bySeq.get(a.seq)?.id !== a.id || bySeq.get(a.seq)?.hash !== a.hash)).toEqual([]);
    expect(new Set(acked.map((a) => a.seq)).size).toBe(acked.length);

    // Each job ran once per schedule: partitions once at start, retention once when due (plus the CLI runs that won the lease).
    const completed = rows.filter((e) => e.action === 'system.task.completed').map((e) => JSON.parse(e.detailsJson) as { task: string; totals: Record<string, unknown> });
    expect(completed.filter((d) => d.task === 'partitions')).toHaveLength(1);
    // Every other job (e.g. checkpoints, every 5 minutes) fell due once, at the start.
    for (const job of state.jobs.filter((j) => j.name !== 'retention')) expect(completed.filter((d) => d.task === job.name).length, job.name).toBeLessThanOrEqual(1);
    expect(completed.filter((d) => d.task === 'retention')).toHaveLength(1 + cliCompleted);
    const purged = rows.filter((e) => e.action === 'audit.retention.purged').map((e) => JSON.parse(e.detailsJson) as { removed_count: number });
    expect(purged).toHaveLength(1 + cliCompleted);
    expect(purged[0]!.removed_count).toBeGreaterThanOrEqual(OLD_ENTRIES);
    expect(purged.slice(1).every((p) => p.removed_count === 0)).toBe(true);
    expect(state.jobs.map((j) => j.name)).toEqual(expect.arrayContaining(['partitions', 'retention']));
    expect(state.jobs.filter((j) => j.lease_owner !== null)).toEqual([]);
    // The nodes agree with the direct walk, and so does the CLI.
    const verify = await call(nodes[2]!.url, admin, 'GET', '/api/audit/verify');
    expect(verify.json<{ ok: boolean }>(), verify.text).toMatchObject({ ok: true });
    const verifyCli = await runCli(['verify'], { DATABASE_URL: tdb.url, SECRET_KEY });
    expect(verifyCli.code, verifyCli.stderr).toBe(0);

    recordFigures('multi-node', { events_acknowledged: acked.length }, {
      nodes: NODES,
      clients: NODES * CLIENTS_PER_NODE,
      retention_removed: purged[0]!.removed_count,
      retention_runs_scheduled: 1,
      retention_runs_cli_completed: cliCompleted,
      retention_runs_cli_refused_busy: cli.length - cliCompleted,
    });
  }, 180_000);
});

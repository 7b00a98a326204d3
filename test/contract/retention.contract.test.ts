import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openCore } from '../../src/app.js';
import type { Core } from '../../src/app.js';
import { verifyStoredChain } from '../../src/chain/verify-stored-chain.js';
import { Scheduler } from '../../src/jobs/scheduler.js';
import { ManualClock } from '../../src/lib/clock.js';
import { DAY_MS } from '../../src/retention/retention.service.js';
import { buildScheduler, scheduledJobs, startBackground } from '../../src/runtime.js';
import { buildEvent } from '../support/audit-fixtures.js';
import { BACKENDS, freshDatabaseUrl } from '../support/backends.js';
import type { TestDatabase } from '../support/backends.js';

const SECRET = 'retention-test-secret-key-0123456789abcdef';
const ctx = (_core: Core) => ({ principal: { kind: 'user' as const, userId: 'u', username: 'admin', role: 'admin' as const, sessionIdHash: 'x', csrfToken: 'y' }, ip: '127.0.0.1', userAgent: null, requestId: 'r' });

for (const backend of BACKENDS) {
  describe(`retention and scheduled jobs (${backend})`, () => {
    let tdb: TestDatabase;
    let core: Core;
    let clock: ManualClock;

    beforeEach(async () => {
      tdb = await freshDatabaseUrl(backend);
      clock = new ManualClock(Date.UTC(2026, 0, 1));
      core = await openCore({ databaseUrl: tdb.url, clock, secretKey: SECRET });
    });
    afterEach(async () => {
      await core.close();
      await tdb.cleanup();
    });

    it('removes entries older than the retention in batches, keeps the chain verifiable, and records it', async () => {
      for (let day = 0; day < 10; day++) {
        await core.recorder.recordBatch(Array.from({ length: 1_200 }, () => buildEvent()));
        clock.advance(DAY_MS);
      }
      const total = 12_000;
      clock.advance(95 * DAY_MS); // 104 days after the first batch: with 90 days kept, the oldest days go
      const before = await core.auditStore.chainState();
      const outcome = await buildScheduler(core).runNow('retention');
      expect(outcome.status).toBe('completed');
      const cutoff = clock.now() - 90 * DAY_MS;
      const keptDays = Array.from({ length: 10 }, (_, d) => Date.UTC(2026, 0, 1) + d * DAY_MS).filter((t) => t >= cutoff).length;
      expect(outcome.status === 'completed' && outcome.totals?.removed).toBe(total - keptDays * 1_200);
      const after = await core.auditStore.chainState();
      expect(after.anchor.seq).toBe(total - keptDays * 1_200);
      expect(after.head.seq).toBeGreaterThan(before.head.seq);
      const verify = await verifyStoredChain(core.auditStore);
      expect(verify).toMatchObject({ ok: true, from_seq: after.anchor.seq + 1 });
      const purged = (await core.auditStore.page({ actions: ['audit.retention.purged'] }, { order: 'newest', limit: 1 })).items[0]!;
      expect(JSON.parse(purged.detailsJson)).toMatchObject({ retention_days: 90, removed_count: total - keptDays * 1_200, checkpoint: after.anchor });
      const task = (await core.auditStore.page({ actions: ['system.task.completed'] }, { order: 'newest', limit: 1 })).items[0]!;
      expect(JSON.parse(task.detailsJson)).toMatchObject({ task: 'retention', totals: { removed: total - keptDays * 1_200 } });
    });

    it('warns how many entries the next run removes when retention is lowered', async () => {
      await core.recorder.recordBatch(Array.from({ length: 50 }, () => buildEvent()));
      clock.advance(45 * DAY_MS);
      await core.recorder.recordBatch(Array.from({ length: 7 }, () => buildEvent()));
      const res = await core.settings.update({ audit_retention_days: 30 }, ctx(core));
      expect(res.warnings).toEqual([expect.objectContaining({ setting: 'audit_retention_days', entries_to_remove: 50 })]);
      expect((await core.settings.update({ audit_retention_days: 60 }, ctx(core))).warnings).toEqual([]);
    });

    it('runs a job once when several schedulers (nodes) tick together', async () => {
      clock.advance(DAY_MS);
      const nodes = [0, 1, 2].map(() => new Scheduler(core.db, core.recorder, core.clock, scheduledJobs(core)));
      await Promise.all(nodes.map((n) => n.tick()));
      await Promise.all(nodes.map((n) => n.tick()));
      const retentionRuns = async (): Promise<number> =>
        (await core.auditStore.page({ actions: ['system.task.completed'] }, { order: 'newest', limit: 100 })).items.filter((e) => JSON.parse(e.detailsJson).task === 'retention').length;
      expect(await retentionRuns()).toBe(1);
      clock.advance(DAY_MS + 1);
      await Promise.all(nodes.map((n) => n.tick()));
      expect(await retentionRuns()).toBe(2);
    });

    it('mirrors every committed entry as one JSON line on stdout, unless turned off', async () => {
      const out = new PassThrough();
      let text = '';
      out.on('data', (d: Buffer) => (text += d.toString()));
      const stop = startBackground(core, { stdout: out });
      try {
        const stored = await core.recorder.recordBatch([buildEvent('sync.started'), buildEvent('sync.failed')]);
        await new Promise((r) => setTimeout(r, 50));
        const lines = text.trim().split('\n').map((l) => JSON.parse(l) as { seq: number; action: string; hash: string });
        expect(lines.filter((l) => l.action.startsWith('sync.')).map((l) => [l.seq, l.hash])).toEqual(stored.map((e) => [e.seq, e.hash]));
        await core.settings.update({ stdout_mirror: false }, ctx(core));
        text = '';
        await core.recorder.record(buildEvent('sync.completed'));
        await new Promise((r) => setTimeout(r, 50));
        expect(text).toBe('');
      } finally {
        stop();
      }
    });
  });
}

describe('PostgreSQL time partitions', () => {
  it('drops whole months older than the retention and keeps the chain verifiable', async () => {
    const tdb = await freshDatabaseUrl('postgres');
    const clock = new ManualClock(Date.UTC(2026, 0, 15));
    const core = await openCore({ databaseUrl: tdb.url, clock, secretKey: SECRET });
    try {
      const scheduler = buildScheduler(core);
      await core.recorder.recordBatch(Array.from({ length: 300 }, () => buildEvent()));
      clock.set(Date.UTC(2026, 1, 15));
      await core.recorder.recordBatch(Array.from({ length: 200 }, () => buildEvent()));
      for (const month of [2, 3, 4, 5]) {
        clock.set(Date.UTC(2026, month, 1));
        expect((await scheduler.runNow('partitions')).status).toBe('completed');
      }
      await core.recorder.recordBatch(Array.from({ length: 10 }, () => buildEvent()));
      const tables = async (): Promise<string[]> =>
        (await core.db.all<{ t: string }>("SELECT tablename AS t FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE 'audit_entries_p%' ORDER BY 1")).map((r) => r.t);
      expect(await tables()).toContain('audit_entries_p202601');
      const head = await core.auditStore.chainState();
      const outcome = await scheduler.runNow('retention');
      expect(outcome).toMatchObject({ status: 'completed', totals: { removed: 300 + 200 + 1 } }); // Jan, Feb, and the Mar 1 task entry (cutoff Mar 3)
      expect(await tables()).not.toContain('audit_entries_p202601');
      expect(await tables()).not.toContain('audit_entries_p202602');
      const state = await core.auditStore.chainState();
      expect(state.anchor.seq).toBe(head.head.seq - 13); // kept: Apr 1, May 1, Jun 1 task entries and the last 10
      expect(await verifyStoredChain(core.auditStore)).toMatchObject({ ok: true });
    } finally {
      await core.close();
      await tdb.cleanup();
    }
  });

  it('drops months while appends insert side by side, without a deadlock or a refused append', async () => {
    const tdb = await freshDatabaseUrl('postgres');
    const clock = new ManualClock(Date.UTC(2026, 0, 15));
    const core = await openCore({ databaseUrl: tdb.url, clock, secretKey: SECRET });
    try {
      for (const month of [0, 1, 2]) {
        clock.set(Date.UTC(2026, month, 15));
        await core.db.partitions!.ensure(clock.now());
        await core.recorder.recordBatch(Array.from({ length: 100 }, () => buildEvent()));
      }
      clock.set(Date.UTC(2026, 5, 1));
      await core.db.partitions!.ensure(clock.now());
      // Batched appends (which insert before they lock the chain head) from eight callers while
      // the three old months are dropped (which locks the table and the head).
      let stop = false;
      const appended: number[] = [];
      const appenders = Array.from({ length: 8 }, async () => {
        while (!stop) appended.push((await core.recorder.recordBatch(Array.from({ length: 40 }, () => buildEvent()))).length);
      });
      const removed: number[] = [];
      for (let i = 0; i < 3; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        removed.push((await core.auditStore.purgeBatch(Date.UTC(2026, 3, 1), 5_000))?.removed ?? 0);
      }
      stop = true;
      await Promise.all(appenders);
      expect(removed).toEqual([100, 100, 100]);
      expect(appended.length).toBeGreaterThan(8);
      const tables = (await core.db.all<{ t: string }>("SELECT tablename AS t FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE 'audit_entries_p%' ORDER BY 1")).map((r) => r.t);
      expect(tables.filter((t) => t < 'audit_entries_p202604')).toEqual([]);
      expect(await verifyStoredChain(core.auditStore)).toMatchObject({ ok: true, checked: appended.reduce((a, b) => a + b, 0) });
    } finally {
      await core.close();
      await tdb.cleanup();
    }
  });

  it('does not hold appends behind a month that a long read still has open: it deletes the rows instead', async () => {
    const tdb = await freshDatabaseUrl('postgres');
    const clock = new ManualClock(Date.UTC(2026, 0, 15));
    const core = await openCore({ databaseUrl: tdb.url, clock, secretKey: SECRET });
    try {
      await core.recorder.recordBatch(Array.from({ length: 300 }, () => buildEvent()));
      clock.set(Date.UTC(2026, 3, 1));
      await core.db.partitions!.ensure(clock.now());
      await core.recorder.recordBatch(Array.from({ length: 10 }, () => buildEvent()));
      // An export or verify in progress: a snapshot that has read every partition.
      const reader = await core.db.snapshot();
      await reader.all('SELECT COUNT(*) AS n FROM audit_entries');
      const cutoff = Date.UTC(2026, 1, 1);
      const stuck = new Promise<'stuck'>((resolve) => setTimeout(() => resolve('stuck'), 15_000).unref());
      const purge = core.auditStore.purgeBatch(cutoff, 5_000);
      const append = core.recorder.record(buildEvent());
      expect(await Promise.race([purge.then((r) => r?.removed), stuck])).toBe(300);
      expect(await Promise.race([append.then((e) => e.seq > 0), stuck])).toBe(true);
      const tables = async (): Promise<string[]> =>
        (await core.db.all<{ t: string }>("SELECT tablename AS t FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE 'audit_entries_p%' ORDER BY 1")).map((r) => r.t);
      expect(await tables()).toContain('audit_entries_p202601');
      await reader.close();
      expect(await verifyStoredChain(core.auditStore)).toMatchObject({ ok: true });
    } finally {
      await core.close();
      await tdb.cleanup();
    }
  });
});

import { searchTerms } from '../../src/audit/search-terms.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditRecorder } from '../../src/audit/audit-recorder.js';
import type { SqlAuditStore } from '../../src/audit/sql-audit-store.js';
import { CHAIN_GENESIS } from '../../src/chain/entry-hash.js';
import { verifyStoredChain } from '../../src/chain/verify-stored-chain.js';
import type { ManualClock } from '../../src/lib/clock.js';
import { AppError } from '../../src/lib/errors.js';
import type { SqlDatabase } from '../../src/store/sql-database.js';
import { buildEvent } from '../support/audit-fixtures.js';
import { BACKENDS } from '../support/backends.js';
import { openTestStore } from '../support/test-store.js';
import type { TestStore } from '../support/test-store.js';

for (const backend of BACKENDS) {
  describe(`AuditStore contract (${backend})`, () => {
    let t: TestStore;
    let db: SqlDatabase;
    let store: SqlAuditStore;
    let recorder: AuditRecorder;
    let clock: ManualClock;

    beforeEach(async () => {
      t = await openTestStore(backend);
      ({ db, store, recorder, clock } = t);
    });

    afterEach(async () => {
      await t.close();
    });

    it('starts empty at genesis', async () => {
      const state = await store.chainState();
      expect(state.head).toEqual({ seq: 0, hash: CHAIN_GENESIS, ts: 0 });
      expect(state.anchor).toEqual({ seq: 0, hash: CHAIN_GENESIS });
      expect(state.maxStoredSeq).toBeNull();
      expect((await verifyStoredChain(store)).ok).toBe(true);
    });

    it('links appended entries into one gap-free chain', async () => {
      const first = await recorder.recordBatch([buildEvent(), buildEvent('rotation.failed')]);
      clock.advance(1000);
      const second = await recorder.record(buildEvent('sync.started'));
      expect([...first, second].map((e) => e.seq)).toEqual([1, 2, 3]);
      expect(first[0]!.prev_hash).toBe(CHAIN_GENESIS);
      expect(first[1]!.prev_hash).toBe(first[0]!.hash);
      expect(second.prev_hash).toBe(first[1]!.hash);
      expect(first[1]!.severity).toBe('error');
      const result = await verifyStoredChain(store);
      expect(result).toMatchObject({ ok: true, checked: 3, to_seq: 3, head_hash: second.hash });
    });

    it('reads back exactly what it stored', async () => {
      const [stored] = await recorder.recordBatch([buildEvent('discovery.vault.error', { source: { ip: '10.1.1.1', user_agent: 'ua' }, requestId: 'req-1', occurredAt: Date.UTC(2026, 0, 1) })]);
      const got = await store.getById(stored!.id);
      expect(got).toEqual(stored);
    });

    it('keeps ts from going backwards when the clock does', async () => {
      const a = await recorder.record(buildEvent());
      clock.advance(-60_000);
      const b = await recorder.record(buildEvent());
      expect(b.ts).toBe(a.ts);
      expect((await verifyStoredChain(store)).ok).toBe(true);
    });

    it('groups concurrent appends and keeps seq gap-free', async () => {
      const results = await Promise.all(Array.from({ length: 60 }, (_, i) => recorder.recordBatch([buildEvent(), ...(i % 3 === 0 ? [buildEvent('sync.completed')] : [])])));
      const seqs = results.flat().map((e) => e.seq).sort((a, b) => a - b);
      expect(seqs).toEqual(Array.from({ length: 80 }, (_, i) => i + 1));
      for (const batch of results) {
        for (let i = 1; i < batch.length; i++) expect(batch[i]!.seq).toBe(batch[i - 1]!.seq + 1);
      }
      expect(await verifyStoredChain(store)).toMatchObject({ ok: true, checked: 80 });
    });

    it('refuses a whole batch when one event is bad, storing nothing', async () => {
      const bad = buildEvent('rotation.failed', { details: { error_message: 'x', rollback_status: 'maybe' } });
      await expect(recorder.recordBatch([buildEvent(), bad])).rejects.toMatchObject({
        code: 'validation_failed',
        details: { field: 'events[1].details.rollback_status' },
      });
      await expect(recorder.recordBatch([{ ...buildEvent(), action: 'no.such.action' }])).rejects.toThrow(AppError);
      expect((await store.chainState()).head.seq).toBe(0);
    });

    it('rolls back the work done within an append that fails, and only that append', async () => {
      await db.run("INSERT INTO settings (key, value, updated_at) VALUES ('a', '1', 0)");
      const failing = recorder.record(buildEvent(), async (tx) => {
        await tx.run("UPDATE settings SET value = '2' WHERE key = 'a'");
        throw new Error('refused');
      });
      const passing = recorder.record(buildEvent('sync.started'), async (tx) => {
        await tx.run("INSERT INTO settings (key, value, updated_at) VALUES ('b', '1', 0)");
      });
      await expect(failing).rejects.toThrow('refused');
      const ok = await passing;
      expect(ok.seq).toBe(1);
      expect(await db.all('SELECT key, value FROM settings ORDER BY key')).toEqual([{ key: 'a', value: '1' }, { key: 'b', value: '1' }]);
      expect((await verifyStoredChain(store)).ok).toBe(true);
    });

    it('filters, searches, counts and pages', async () => {
      await recorder.recordBatch([
        buildEvent('auth.login.failed', { actor: { type: 'user', id: 'u-1', name: 'mallory' }, resource: { id: 'u-1', name: 'mallory' } }),
        buildEvent('rotation.started', { resource: { id: 'sec-1', name: 'db-password' } }),
        buildEvent('rotation.failed', { resource: { id: 'sec-1', name: 'db-password' } }),
        buildEvent('sync.completed', { actor: { type: 'system', id: 'system', name: 'system' } }),
      ]);
      clock.advance(86_400_000);
      await recorder.record(buildEvent('rotation.completed', { resource: { type: 'secret', id: 'sec-2', name: 'api-key' } }));
      const t0 = clock.now() - 86_400_000;
      const seqs = async (filter: Parameters<SqlAuditStore['page']>[0]): Promise<number[]> =>
        (await store.page(filter, { order: 'newest', limit: 100 })).items.map((e) => e.seq);

      expect(await seqs({})).toEqual([5, 4, 3, 2, 1]);
      expect(await seqs({ actions: ['rotation.started', 'rotation.failed', 'rotation.completed'] })).toEqual([5, 3, 2]);
      expect(await seqs({ actor: 'mallory' })).toEqual([1]);
      expect(await seqs({ actor: 'u-1' })).toEqual([1]);
      expect(await seqs({ actorType: 'system' })).toEqual([4]);
      expect(await seqs({ severities: ['error', 'warning'] })).toEqual([3, 1]);
      expect(await seqs({ resource: 'sec-1' })).toEqual([3, 2]);
      expect(await seqs({ resource: 'api-key' })).toEqual([5]);
      expect(await seqs({ resource: 'secret' })).toEqual([5, 3, 2]);
      expect(await seqs({ start: t0 + 1 })).toEqual([5]);
      expect(await seqs({ end: t0 })).toEqual([4, 3, 2, 1]);
      expect(await seqs({ searchTokens: ['rotation', 'fail'] })).toEqual([3]);
      expect(await seqs({ searchTokens: ['db'] })).toEqual([3, 2]);
      expect(await seqs({ searchTokens: ['mallory'] })).toEqual([1]);

      const p1 = await store.page({}, { order: 'newest', limit: 2 });
      expect(p1.items.map((e) => e.seq)).toEqual([5, 4]);
      const p2 = await store.page({}, { order: 'newest', limit: 2, beforeSeq: p1.nextSeq! });
      expect(p2.items.map((e) => e.seq)).toEqual([3, 2]);
      const p3 = await store.page({}, { order: 'newest', limit: 2, beforeSeq: p2.nextSeq! });
      expect(p3).toMatchObject({ nextSeq: null });
      expect(p3.items.map((e) => e.seq)).toEqual([1]);

      const a1 = await store.page({}, { order: 'oldest', limit: 3, afterSeq: 0 });
      expect(a1.items.map((e) => e.seq)).toEqual([1, 2, 3]);
      const a2 = await store.page({}, { order: 'oldest', limit: 3, afterSeq: a1.nextSeq! });
      expect(a2.items.map((e) => e.seq)).toEqual([4, 5]);
      expect((await store.page({}, { order: 'oldest', limit: 3, afterSeq: 5 })).nextSeq).toBe(5);

      expect(await store.count({}, 1000)).toEqual({ count: 5, capped: false });
      // No filter (or only a time window): the exact length of a seq range, whatever the cap.
      expect(await store.count({}, 3)).toEqual({ count: 5, capped: false });
      expect(await store.count({ start: t0 + 1 }, 0)).toEqual({ count: 1, capped: false });
      expect(await store.count({ actions: ['rotation.started', 'rotation.failed', 'rotation.completed'] }, 2)).toEqual({ count: 2, capped: true });
      expect(await store.count({ resource: 'secret' }, 3)).toEqual({ count: 3, capped: false });
      expect(await store.count({ searchTokens: ['rotation'] }, 1000)).toEqual({ count: 3, capped: false });
      // Words are split at anything but letters and digits, in any script and case, and
      // matched as prefixes; the query is split the same way.
      const odd = await recorder.recordBatch([
        buildEvent('rotation.started', { resource: { id: 'vault://Prod/DB_main.v2', name: 'Café Ünïcode—東京' } }),
        buildEvent('rotation.started', { resource: { id: "o'brien\\path", name: 'x'.repeat(3_000) } }),
      ]);
      const oddSeqs = (q: string) => seqs({ searchTokens: searchTerms(q) });
      expect(await oddSeqs('prod db_MAIN v2')).toEqual([odd[0]!.seq]);
      expect(await oddSeqs('vault://prod')).toEqual([odd[0]!.seq]);
      expect(await oddSeqs('café ünï')).toEqual([odd[0]!.seq]);
      expect(await oddSeqs('東京')).toEqual([odd[0]!.seq]);
      expect(await oddSeqs("o'brien path")).toEqual([odd[1]!.seq]);
      expect(await oddSeqs('rotation start')).toEqual([odd[1]!.seq, odd[0]!.seq, 2]);
    });

    it('iterates in ascending seq across batch boundaries', async () => {
      const events = Array.from({ length: 2_500 }, () => buildEvent());
      await recorder.recordBatch(events.slice(0, 1000));
      await recorder.recordBatch(events.slice(1000, 2000));
      await recorder.recordBatch(events.slice(2000));
      let expected = 1;
      for await (const e of store.iterate({})) expect(e.seq).toBe(expected++);
      expect(expected).toBe(2_501);
      const some: number[] = [];
      for await (const e of store.iterate({}, { fromSeq: 2_400, toSeq: 2_402 })) some.push(e.seq);
      expect(some).toEqual([2_400, 2_401, 2_402]);
    });
  });
}

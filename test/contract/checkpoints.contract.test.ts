import { verify as edVerify } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openCore } from '../../src/app.js';
import type { Core } from '../../src/app.js';
import { canonicalJson } from '../../src/chain/canonical-json.js';
import { verifyChainWithCheckpoints } from '../../src/checkpoints/verify-chain.js';
import { publicKeyFromRaw } from '../../src/export/ed25519-keys.js';
import { ManualClock } from '../../src/lib/clock.js';
import { buildScheduler } from '../../src/runtime.js';
import { buildEvent } from '../support/audit-fixtures.js';
import { BACKENDS, freshDatabaseUrl } from '../support/backends.js';
import type { TestDatabase } from '../support/backends.js';

for (const backend of BACKENDS) {
  describe(`signed checkpoints (${backend})`, () => {
    let tdb: TestDatabase;
    let core: Core;
    let clock: ManualClock;

    beforeEach(async () => {
      tdb = await freshDatabaseUrl(backend);
      clock = new ManualClock();
      core = await openCore({ databaseUrl: tdb.url, clock, secretKey: 'checkpoint-test-secret-key-0123456789abcd' });
    });
    afterEach(async () => {
      await core.close();
      await tdb.cleanup();
    });

    it('signs the head only when the log grew, verifiably with the published key', async () => {
      const scheduler = buildScheduler(core);
      await core.recorder.recordBatch(Array.from({ length: 20 }, () => buildEvent()));
      expect((await scheduler.runNow('checkpoint')).status).toBe('completed');
      const [first] = await core.checkpoints.list(10);
      expect(first).toMatchObject({ seq: 20, statement: { format: 'trailmark-checkpoint/1', seq: 20, tenant: 'Trailmark' } });
      const [key] = await core.signingKeys.list();
      expect(first!.key_id).toBe(key!.key_id);
      expect(edVerify(null, Buffer.from(canonicalJson(first!.statement)), publicKeyFromRaw(key!.public_key)!, Buffer.from(first!.signature, 'base64url'))).toBe(true);
      // Published as an audit entry (so stdout and webhook rules receive it).
      const published = (await core.auditStore.page({ actions: ['audit.checkpoint'] }, { order: 'newest', limit: 5 })).items;
      expect(published).toHaveLength(1);
      expect(JSON.parse(published[0]!.detailsJson)).toMatchObject({ seq: 20, hash: first!.hash, signature: first!.signature });
      // Only its own entry since: no new checkpoint, and nothing recorded for the idle run.
      clock.advance(600_000);
      const before = (await core.auditStore.chainState()).head.seq;
      await scheduler.runNow('checkpoint');
      expect(await core.checkpoints.list(10)).toHaveLength(1);
      expect((await core.auditStore.chainState()).head.seq).toBe(before);
      await core.recorder.record(buildEvent());
      await scheduler.runNow('checkpoint');
      expect((await core.checkpoints.list(10)).map((c) => c.seq)).toEqual([before + 1, 20]);
    });

    it('detects removal of the newest entries even when the head row is rewritten to match', async () => {
      await core.recorder.recordBatch(Array.from({ length: 30 }, () => buildEvent()));
      await core.checkpoints.takeIfGrown();
      expect((await verifyChainWithCheckpoints(core.auditStore, core.checkpoints)).ok).toBe(true);
      const keep = await core.auditStore.getBySeq(25);
      await core.db.run('DELETE FROM audit_entries WHERE seq > 25');
      await core.db.run('UPDATE audit_chain_head SET seq = ?, hash = ?, ts = ? WHERE id = 1', [keep!.seq, keep!.hash, keep!.ts]);
      const result = await verifyChainWithCheckpoints(core.auditStore, core.checkpoints);
      expect(result).toMatchObject({ ok: false, first_bad_seq: 26 });
      expect(result.reason).toContain('signed checkpoint covers seq 30');
    });

    it('reports a forged checkpoint row', async () => {
      await core.recorder.recordBatch(Array.from({ length: 5 }, () => buildEvent()));
      await core.checkpoints.takeIfGrown();
      await core.db.run("UPDATE checkpoints SET signature = 'AAAA' WHERE seq = 5");
      expect(await verifyChainWithCheckpoints(core.auditStore, core.checkpoints)).toMatchObject({ ok: false, first_bad_seq: 5 });
    });
  });
}

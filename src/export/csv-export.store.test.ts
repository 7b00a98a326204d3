import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import type { SqlAuditStore } from '../audit/sql-audit-store.js';
import type { ManualClock } from '../lib/clock.js';
import type { SqlDatabase } from '../store/sql-database.js';
import { buildEvent } from '../../test/support/audit-fixtures.js';
import { BACKENDS } from '../../test/support/backends.js';
import { openTestStore } from '../../test/support/test-store.js';
import type { TestStore } from '../../test/support/test-store.js';
import { CsvExport } from './csv-export.js';
import { SigningKeys } from './signing-keys.js';
import { buildManifestInput } from './testing/export-fixtures.js';
import { verifyExport } from './verify-export.js';

const SECRET = 'store-round-trip-secret-0123456789abcdef';

for (const backend of BACKENDS) {
  describe(`CSV export from a real store (${backend})`, () => {
    let t: TestStore;
    let db: SqlDatabase;
    let store: SqlAuditStore;
    let recorder: AuditRecorder;
    let clock: ManualClock;
    let dir: string;

    beforeEach(async () => {
      t = await openTestStore(backend);
      ({ db, store, recorder, clock } = t);
      dir = await mkdtemp(join(tmpdir(), 'trailmark-export-test-'));
    });

    afterEach(async () => {
      await t.close();
      await rm(dir, { recursive: true, force: true });
    });

    /** Exports what the store holds for `filter` up to the head, as the export route will. */
    async function exportToFile(filter: Parameters<SqlAuditStore['iterate']>[0], filters: Record<string, string[]>) {
      const { head } = await store.chainState();
      const signer = await new SigningKeys(db, SECRET, () => clock.now()).current();
      const csv = new CsvExport(store.iterate(filter, { toSeq: head.seq }), {
        manifest: buildManifestInput({ filters, log_head: { seq: head.seq, hash: head.hash } }),
        secretKey: SECRET,
        signer,
      });
      const chunks: Buffer[] = [];
      for await (const chunk of csv) chunks.push(chunk);
      const path = join(dir, 'export.csv');
      await writeFile(path, Buffer.concat(chunks));
      return { path, result: csv.result, publicKey: signer.publicKey, head };
    }

    it('round-trips stored entries, tricky text included, through the verifier', async () => {
      await recorder.recordBatch([
        buildEvent('rotation.started', { resource: { id: '=SUM(A1)', name: '-danger, "quoted"\r\nname' }, actor: { type: 'user', id: '@u1', name: 'Zoë\tO\'Brien' } }),
        buildEvent('sync.failed', { details: { error_message: 'line1\nline2, "x"', failed_secrets: ['+a', '=b'] } }),
        buildEvent('auth.login.failed'),
      ]);
      clock.advance(1234);
      await recorder.record(buildEvent('settings.updated'));
      const { path, result, publicKey, head } = await exportToFile({}, {});
      expect(result).toMatchObject({ rowCount: 4, firstSeq: 1, lastSeq: 4 });
      expect(result.manifest.log_head).toEqual({ seq: head.seq, hash: head.hash });
      const v = await verifyExport(path, { secretKey: SECRET, publicKey });
      expect(v.errors).toEqual([]);
      expect(v).toMatchObject({ ok: true, kind: 'csv', row_count: 4, first_seq: 1, last_seq: 4, final_hash: result.finalHash });
    });

    it('exports a filtered range whose seqs have gaps, and an empty one', async () => {
      for (let i = 0; i < 30; i++) await recorder.record(buildEvent(i % 3 === 0 ? 'rotation.failed' : 'rotation.started'));
      const failed = await exportToFile({ actions: ['rotation.failed'] }, { action: ['rotation.failed'] });
      expect(failed.result).toMatchObject({ rowCount: 10, firstSeq: 1, lastSeq: 28 });
      expect(await verifyExport(failed.path, { secretKey: SECRET, publicKey: failed.publicKey })).toMatchObject({ ok: true, row_count: 10, filters: { action: ['rotation.failed'] } });

      const none = await exportToFile({ actions: ['sync.started'] }, { action: ['sync.started'] });
      expect(none.result).toMatchObject({ rowCount: 0, firstSeq: null, lastSeq: null });
      expect(await verifyExport(none.path, { secretKey: SECRET, publicKey: none.publicKey })).toMatchObject({ ok: true, row_count: 0 });
    });

    it('keeps the details bytes the store holds (so they can be re-hashed against the chain)', async () => {
      const [stored] = await recorder.recordBatch([buildEvent('alert.rule.created')]);
      const { path } = await exportToFile({}, {});
      const { readFile } = await import('node:fs/promises');
      const text = await readFile(path, 'utf8');
      expect(text).toContain(`"${stored!.detailsJson.replaceAll('"', '""')}"`);
    });
  });
}

import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openCore } from '../../src/app.js';
import type { Core } from '../../src/app.js';
import { verifyStoredChain } from '../../src/chain/verify-stored-chain.js';
import { verifyExport } from '../../src/export/verify-export.js';
import { ManualClock } from '../../src/lib/clock.js';
import { DAY_MS } from '../../src/retention/retention.service.js';
import { buildScheduler } from '../../src/runtime.js';
import { buildEvent } from '../support/audit-fixtures.js';
import { BACKENDS, freshDatabaseUrl } from '../support/backends.js';
import type { TestDatabase } from '../support/backends.js';

const SECRET = 'archival-test-secret-key-0123456789abcdefg';

for (const backend of BACKENDS) {
  describe(`archival before purge (${backend})`, () => {
    let tdb: TestDatabase;
    let dir: string;
    let clock: ManualClock;
    let core: Core;

    beforeEach(async () => {
      tdb = await freshDatabaseUrl(backend);
      dir = mkdtempSync(join(tmpdir(), 'trailmark-archive-'));
      clock = new ManualClock(Date.UTC(2026, 2, 1, 10));
    });
    afterEach(async () => {
      await core.close();
      await tdb.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    it('writes verifiable CSV and PDF files per UTC day for exactly the removed entries, then removes them', async () => {
      core = await openCore({ databaseUrl: tdb.url, clock, secretKey: SECRET, archiveDir: join(dir, 'archive') });
      const perDay = [30, 0, 45];
      for (const n of perDay) {
        if (n > 0) await core.recorder.recordBatch(Array.from({ length: n }, () => buildEvent()));
        clock.advance(DAY_MS);
      }
      clock.advance(91 * DAY_MS); // cutoff Mar 5: days 1 and 3 fall out of the 90 days; the empty day makes no files
      const outcome = await buildScheduler(core).runNow('retention');
      expect(outcome.status, JSON.stringify(outcome)).toBe('completed');
      const files = readdirSync(join(dir, 'archive')).sort();
      expect(files).toEqual(['Trailmark_2026-03-01.csv', 'Trailmark_2026-03-01.pdf', 'Trailmark_2026-03-03.csv', 'Trailmark_2026-03-03.pdf']);
      const keys = await core.signingKeys.list();
      let rows = 0;
      const seqs: number[] = [];
      for (const f of files) {
        const v = await verifyExport(join(dir, 'archive', f), { secretKey: SECRET, publicKey: keys[0]!.public_key });
        expect(v.ok, f).toBe(true);
        if (f.endsWith('.csv')) {
          rows += v.row_count;
          seqs.push(...readFileSync(join(dir, 'archive', f), 'utf8').split('\r\n').slice(1).filter((l) => /^\d+,/.test(l)).map((l) => Number(l.split(',')[0])));
        }
      }
      expect(rows).toBe(75);
      expect(seqs).toEqual(Array.from({ length: 75 }, (_, i) => i + 1));
      const purged = (await core.auditStore.page({ actions: ['audit.retention.purged'] }, { order: 'newest', limit: 1 })).items[0]!;
      const details = JSON.parse(purged.detailsJson) as { removed_count: number; archives: Array<{ file: string; sha256: string; rows: number }> };
      expect(details.removed_count).toBe(75);
      expect(details.archives.map((a) => a.file.split('/').pop()).sort()).toEqual(files);
      expect(details.archives.every((a) => /^[0-9a-f]{64}$/.test(a.sha256))).toBe(true);
      expect((await verifyStoredChain(core.auditStore)).ok).toBe(true);
    });

    it('removes nothing when the archive cannot be written, and says why', async () => {
      const blocked = join(dir, 'not-a-folder');
      writeFileSync(blocked, 'a file where the archive folder should be');
      core = await openCore({ databaseUrl: tdb.url, clock, secretKey: SECRET, archiveDir: blocked });
      await core.recorder.recordBatch(Array.from({ length: 10 }, () => buildEvent()));
      clock.advance(100 * DAY_MS);
      const outcome = await buildScheduler(core).runNow('retention');
      expect(outcome).toMatchObject({ status: 'failed', error: expect.stringContaining('archival failed, nothing was removed') });
      expect((await core.auditStore.chainState()).anchor.seq).toBe(0);
      expect((await core.auditStore.count({}, 1000)).count).toBeGreaterThanOrEqual(10);
      const failed = (await core.auditStore.page({ actions: ['system.task.failed'] }, { order: 'newest', limit: 1 })).items[0]!;
      expect(JSON.parse(failed.detailsJson)).toMatchObject({ task: 'retention', error_message: expect.stringContaining('archival failed') });
    });
  });
}

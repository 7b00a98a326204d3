import { describe, expect, it } from 'vitest';
import { openCore } from '../../src/app.js';
import { AuditRecorder } from '../../src/audit/audit-recorder.js';
import { SqlAuditStore } from '../../src/audit/sql-audit-store.js';
import { Catalog } from '../../src/catalog/catalog.js';
import { verifyStoredChain } from '../../src/chain/verify-stored-chain.js';
import { ManualClock } from '../../src/lib/clock.js';
import { loadMigrations, migrate, schemaStatus } from '../../src/store/migrator.js';
import { openDatabase } from '../../src/store/open-database.js';
import type { SqlDatabase } from '../../src/store/sql-database.js';
import { searchTerms } from '../../src/audit/search-terms.js';
import { buildEvent } from '../support/audit-fixtures.js';
import { BACKENDS, freshDatabaseUrl } from '../support/backends.js';

for (const backend of BACKENDS) {
  describe(`upgrading a database made by the previous schema version (${backend})`, () => {
    it('applies the new migrations at start and keeps every entry and the chain', async () => {
      const tdb = await freshDatabaseUrl(backend);
      const clock = new ManualClock();
      try {
        const all = loadMigrations(backend);
        expect(all.length).toBeGreaterThan(1);
        const previous = all.slice(0, -1);
        const old = await openDatabase(tdb.url);
        await migrate(old, () => clock.now(), previous);
        expect((await schemaStatus(old)).current).toBe(previous[previous.length - 1]!.version);
        // Entries written by code of the previous version: the core tables, the chain. That code
        // left the search vector to the database (PostgreSQL computed it before migration 8).
        const previousCode = Object.create(old) as SqlDatabase;
        Object.defineProperty(previousCode, 'dialect', { value: { ...old.dialect, searchVector: null } });
        const recorder = new AuditRecorder(new Catalog(), new SqlAuditStore(previousCode, () => clock.now()));
        const written = await recorder.recordBatch(Array.from({ length: 120 }, (_, i) => buildEvent(i % 2 ? 'sync.started' : 'rotation.failed')));
        await old.close();

        const core = await openCore({ databaseUrl: tdb.url, clock, secretKey: 'upgrade-test-secret-key-0123456789abcdefg' });
        try {
          const status = await schemaStatus(core.db);
          expect(status.current).toBe(status.expected);
          expect(await verifyStoredChain(core.auditStore)).toMatchObject({ ok: true, checked: 120 });
          if (core.db.partitions) {
            // Rows the old version left in the default partition were moved into their month.
            expect(await core.db.get('SELECT COUNT(*) AS n FROM audit_entries_default')).toEqual({ n: 0 });
          }
          const stored = await core.auditStore.getBySeq(written[57]!.seq);
          expect(stored).toEqual(written[57]);
          const more = await core.recorder.record(buildEvent('sync.completed'));
          expect(more.seq).toBe(121);
          expect((await verifyStoredChain(core.auditStore)).ok).toBe(true);
          // Search finds entries of both versions.
          const found = async (q: string): Promise<number> => (await core.auditStore.page({ searchTokens: searchTerms(q) }, { order: 'newest', limit: 200 })).items.length;
          expect(await found('rotation fail')).toBe(60);
          expect(await found('sync')).toBe(61);
        } finally {
          await core.close();
        }
      } finally {
        await tdb.cleanup();
      }
    });
  });
}

import { AuditRecorder } from '../../src/audit/audit-recorder.js';
import { SqlAuditStore } from '../../src/audit/sql-audit-store.js';
import { Catalog } from '../../src/catalog/catalog.js';
import { ManualClock } from '../../src/lib/clock.js';
import { migrate } from '../../src/store/migrator.js';
import { openDatabase } from '../../src/store/open-database.js';
import type { SqlDatabase } from '../../src/store/sql-database.js';
import type { BackendName } from './backends.js';
import { freshDatabaseUrl } from './backends.js';

/** A fresh, migrated database of one backend with a store and recorder on a manual clock. */
export interface TestStore {
  readonly db: SqlDatabase;
  readonly clock: ManualClock;
  readonly store: SqlAuditStore;
  readonly recorder: AuditRecorder;
  close(): Promise<void>;
}

export async function openTestStore(backend: BackendName): Promise<TestStore> {
  const tdb = await freshDatabaseUrl(backend);
  const db = await openDatabase(tdb.url);
  const clock = new ManualClock();
  await migrate(db, () => clock.now());
  const store = new SqlAuditStore(db, () => clock.now());
  return {
    db,
    clock,
    store,
    recorder: new AuditRecorder(new Catalog(), store),
    async close() {
      await db.close();
      await tdb.cleanup();
    },
  };
}

/** One more writer (a node, a CLI process) on an existing database: its own connection, store and recorder. */
export async function openWriter(url: string, clock: ManualClock): Promise<{ db: SqlDatabase; store: SqlAuditStore; recorder: AuditRecorder }> {
  const db = await openDatabase(url);
  await migrate(db, () => clock.now());
  const store = new SqlAuditStore(db, () => clock.now());
  return { db, store, recorder: new AuditRecorder(new Catalog(), store) };
}

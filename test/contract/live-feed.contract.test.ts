import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StoredEntry } from '../../src/audit/audit-entry.js';
import { CommitFeed } from '../../src/audit/audit-live-feed.js';
import type { AuditRecorder } from '../../src/audit/audit-recorder.js';
import type { SqlAuditStore } from '../../src/audit/sql-audit-store.js';
import { ManualClock } from '../../src/lib/clock.js';
import type { SqlDatabase } from '../../src/store/sql-database.js';
import { buildEvent } from '../support/audit-fixtures.js';
import { openWriter } from '../support/test-store.js';
import { BACKENDS, freshDatabaseUrl } from '../support/backends.js';
import type { TestDatabase } from '../support/backends.js';

const until = async (check: () => boolean, ms = 5_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};

/** Two processes on one database: this node's live tail must carry the other's entries too. */
for (const backend of BACKENDS) {
  describe(`live tail feed across writers (${backend})`, () => {
    let tdb: TestDatabase;
    const dbs: SqlDatabase[] = [];
    const feeds: CommitFeed[] = [];
    const clock = new ManualClock(Date.UTC(2026, 5, 1));

    beforeEach(async () => {
      tdb = await freshDatabaseUrl(backend);
    });
    afterEach(async () => {
      for (const f of feeds.splice(0)) f.close();
      for (const db of dbs.splice(0)) await db.close();
      await tdb.cleanup();
    });

    const node = async (): Promise<{ store: SqlAuditStore; recorder: AuditRecorder }> => {
      const w = await openWriter(tdb.url, clock);
      dbs.push(w.db);
      return w;
    };

    it('delivers every entry from the head on, once each and in seq order, whoever wrote it', async () => {
      const here = await node();
      const there = await node();
      await here.recorder.record(buildEvent());
      const feed = new CommitFeed(here.store, here.recorder, 50);
      feeds.push(feed);
      const seen: StoredEntry[] = [];
      const stop = feed.subscribe((entries) => seen.push(...entries));
      await new Promise((r) => setTimeout(r, 20));

      // Only the other node writes: the poll brings its entries.
      await there.recorder.recordBatch([buildEvent(), buildEvent()]);
      await until(() => seen.length === 2);
      // The other node writes, then this one: this node's commit skips seqs, which are filled first.
      await there.recorder.record(buildEvent());
      await here.recorder.recordBatch([buildEvent(), buildEvent()]);
      await there.recorder.record(buildEvent());
      await until(() => seen.length === 6);
      expect(seen.map((e) => e.seq)).toEqual([2, 3, 4, 5, 6, 7]);
      expect(new Set(seen.map((e) => e.id)).size).toBe(6);

      // Nothing arrives twice after more polls.
      await new Promise((r) => setTimeout(r, 150));
      expect(seen).toHaveLength(6);
      stop();
      await there.recorder.record(buildEvent());
      await new Promise((r) => setTimeout(r, 150));
      expect(seen).toHaveLength(6);
    });
  });
}

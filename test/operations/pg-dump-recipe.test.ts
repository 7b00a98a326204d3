import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { openCore } from '../../src/app.js';
import { ManualClock } from '../../src/lib/clock.js';
import { buildEvent } from '../support/audit-fixtures.js';
import { TEST_PG_URL, freshDatabaseUrl } from '../support/backends.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SECRET = 'pg-dump-test-secret-key-0123456789abcdefgh';

describe('the PostgreSQL backup recipe in docs/operations.md', () => {
  const dir = mkdtempSync(join(tmpdir(), 'trailmark-pgdump-'));
  const restoredDb = `trailmark_restore_${process.pid}_${Date.now()}`;
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    const c = new pg.Client({ connectionString: TEST_PG_URL });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${restoredDb}`);
    await c.end();
  });

  it('dumps a live database, restores it into a new one, and the restored chain verifies', async () => {
    const doc = readFileSync(join(ROOT, 'docs/operations.md'), 'utf8');
    for (const step of ['pg_dump --format=custom', 'createdb --template=template0', 'pg_restore --dbname=', 'npx trailmark verify']) expect(doc).toContain(step);

    const tdb = await freshDatabaseUrl('postgres');
    const schema = new URL(tdb.url).searchParams.get('schema')!;
    const core = await openCore({ databaseUrl: tdb.url, clock: new ManualClock(), secretKey: SECRET });
    await core.recorder.recordBatch(Array.from({ length: 500 }, () => buildEvent('rotation.completed')));
    const head = (await core.auditStore.chainState()).head;
    const dump = join(dir, 'trailmark.dump');
    try {
      // The recipe, step by step (with --schema, as the docs say for a schema of its own).
      execFileSync('pg_dump', ['--format=custom', `--file=${dump}`, `--schema=${schema}`, TEST_PG_URL]);
      execFileSync('createdb', ['--template=template0', '-h', '127.0.0.1', '-U', 'postgres', restoredDb]);
      const target = new URL(TEST_PG_URL);
      target.pathname = `/${restoredDb}`;
      execFileSync('pg_restore', [`--dbname=${target.toString()}`, dump]);
      target.searchParams.set('schema', schema);
      const verify = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'verify'], { cwd: ROOT, env: { ...process.env, DATABASE_URL: target.toString(), SECRET_KEY: SECRET }, encoding: 'utf8' });
      expect(verify.status, verify.stderr).toBe(0);
      expect(verify.stderr).toContain(`OK: ${head.seq} entries verified`);
      expect(verify.stderr).toContain(head.hash);
    } finally {
      await core.close();
      await tdb.cleanup();
    }
  }, 120_000);
});

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteDatabase, WAL_RESTART_PAGES } from './sqlite-database.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function filled(): Promise<{ db: SqliteDatabase; path: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'tm-wal-'));
  dirs.push(dir);
  const path = join(dir, 'trail.db');
  const db = new SqliteDatabase(path);
  await db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
  // Well past the 1,000 pages at which a commit would checkpoint by default.
  for (let i = 0; i < 40; i++) {
    await db.transaction(async (tx) => {
      for (let j = 0; j < 50; j++) await tx.run('INSERT INTO t (body) VALUES (?)', ['x'.repeat(2_000)]);
    });
  }
  return { db, path };
}

const until = async (check: () => boolean, ms = 5_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

describe('WAL checkpoints on their own thread (SQLite file)', () => {
  it('keeps checkpoints out of commits below a bound far above 4 MB, and copies the log into the database file on its own', async () => {
    const { db, path } = await filled();
    try {
      // The writer connection checkpoints in its commits only past a bound far above the
      // 4 MB written here…
      expect(await db.transaction((tx) => tx.get<{ wal_autocheckpoint: number }>('PRAGMA wal_autocheckpoint'))).toEqual({ wal_autocheckpoint: WAL_RESTART_PAGES });
      expect(WAL_RESTART_PAGES * 4096).toBeGreaterThan(16_000_000);
      // …and yet the log is copied into the database file (which only a checkpoint writes;
      // the 4 MB of rows went to the log first), by the checkpoint thread.
      await until(() => statSync(path).size > 4_000_000);
      expect(db.checkpointFailure).toBeNull();
    } finally {
      await db.close();
    }
  });

  it('goes back to checkpointing in commits when the thread stops', async () => {
    const { db } = await filled();
    try {
      const thread = (db as unknown as { checkpointer: { worker: { terminate(): Promise<number> } } }).checkpointer.worker;
      await thread.terminate();
      await until(() => db.checkpointFailure !== null);
      expect(db.checkpointFailure).toMatch(/exit code 1/);
      const setting = async (): Promise<number> => (await db.transaction((tx) => tx.get<{ wal_autocheckpoint: number }>('PRAGMA wal_autocheckpoint')))!.wal_autocheckpoint;
      expect(await setting()).toBe(1_000);
    } finally {
      await db.close();
    }
  });
});

describe('the write-ahead log under appends that never pause', () => {
  it('starts over once past its bound instead of growing with every commit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tm-wal-'));
    dirs.push(dir);
    const path = join(dir, 'trail.db');
    // A bound of 300 pages (1.2 MB), and 24 MB written by back-to-back transactions of about
    // 25 pages each: the checkpoint thread alone never sees the whole log copied at the start
    // of a transaction, so without the writer's own checkpoint the log would hold it all.
    const db = new SqliteDatabase(path, { walRestartPages: 300 });
    try {
      await db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
      const rows = 50;
      const insert = `INSERT INTO t (body) VALUES ${Array.from({ length: rows }, () => '(?)').join(', ')}`;
      let largest = 0;
      for (let i = 0; i < 240; i++) {
        await db.transaction(async (tx) => {
          await tx.run(insert, Array.from({ length: rows }, (_, j) => `${i}-${j}-${'x'.repeat(2_000)}`));
        });
        largest = Math.max(largest, statSync(`${path}-wal`).size);
      }
      expect(largest).toBeLessThan(3_000_000);
      expect(await db.get<{ n: number }>('SELECT count(*) AS n FROM t')).toEqual({ n: 240 * rows });
    } finally {
      await db.close();
    }
  });
});

describe('closing a SQLite file database', () => {
  it('lets a process with nothing else to do finish what follows close()', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tm-wal-'));
    dirs.push(dir);
    // A CLI command's shape: open, write, close, then report. The checkpoint thread is not
    // referenced (an idle database must not hold a process open), so close() must hold the
    // process itself until the thread has stopped.
    const script = `
      const { SqliteDatabase } = await import(${JSON.stringify(new URL('./sqlite-database.ts', import.meta.url).href)});
      const db = new SqliteDatabase(${JSON.stringify(join(dir, 'cli.db'))});
      await db.exec('CREATE TABLE t (x)');
      await db.close();
      console.log('reported after close');
    `;
    const file = join(dir, 'cli-shape.mts');
    writeFileSync(file, script);
    const out = spawnSync(process.execPath, ['--import', 'tsx', file], { encoding: 'utf8', timeout: 30_000 });
    expect(out.stderr).toBe('');
    expect(out.stdout.trim()).toBe('reported after close');
  });
});

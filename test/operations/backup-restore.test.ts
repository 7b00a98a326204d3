import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE_DETAILS } from '../support/audit-fixtures.js';
import { startServerProcess } from '../support/server-process.js';
import type { ServerProcess } from '../support/server-process.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SECRET = 'backup-test-secret-key-0123456789abcdefghij';
const cli = (args: string[], env: Record<string, string>) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { cwd: ROOT, env: { ...process.env, SECRET_KEY: SECRET, ...env }, encoding: 'utf8', timeout: 120_000 });

/** The CLI without blocking this process, so the ingest clients keep running meanwhile. */
function cliAsync(args: string[], env: Record<string, string>): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { cwd: ROOT, env: { ...process.env, SECRET_KEY: SECRET, ...env } });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (status) => resolve({ status, stderr }));
  });
}

describe('backup and restore (SQLite)', () => {
  let dir: string;
  let server: ServerProcess;
  let token: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'trailmark-backup-'));
    const env = { DATABASE_URL: `sqlite:${join(dir, 'live.db')}`, TRAILMARK_ADMIN_PASSWORD: 'backup-admin-password', SECRET_KEY: SECRET };
    server = await startServerProcess(env);
    const login = await fetch(`${server.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: 'backup-admin-password' }) });
    const csrf = ((await login.json()) as { csrf_token: string }).csrf_token;
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const res = await fetch(`${server.url}/api/tokens`, { method: 'POST', headers: { cookie, 'x-csrf-token': csrf, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'load', scopes: ['audit:write'] }) });
    token = ((await res.json()) as { token: string }).token;
  }, 60_000);

  afterAll(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('copies a live database under concurrent ingest, verifies it, and restores it whole', async () => {
    const acknowledged = new Map<number, string>();
    let stop = false;
    const clients = Array.from({ length: 4 }, async (_, c) => {
      for (let r = 0; !stop; r++) {
        const events = Array.from({ length: 25 }, (_, i) => ({ action: 'discovery.scan.completed', resource: { type: 'scan', id: `${c}-${r}-${i}` }, details: SAMPLE_DETAILS['discovery.scan.completed'] }));
        const res = await fetch(`${server.url}/api/audit/events`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ events }) });
        expect(res.status).toBe(201);
        for (const e of ((await res.json()) as { entries: Array<{ seq: number; hash: string }> }).entries) acknowledged.set(e.seq, e.hash);
      }
    });
    await new Promise((r) => setTimeout(r, 800));
    const backupFile = join(dir, 'backup.db');
    // The CLI runs as its own process beside the server, as an operator would run it.
    const before = acknowledged.size;
    const out = await cliAsync(['backup', backupFile], { DATABASE_URL: `sqlite:${join(dir, 'live.db')}` });
    const during = acknowledged.size - before;
    await new Promise((r) => setTimeout(r, 300));
    stop = true;
    await Promise.all(clients);
    expect(out.status, out.stderr).toBe(0);
    expect(out.stderr).toMatch(/chain verified: \d+ entries/);

    const restoredPath = join(dir, 'restored.db');
    const restored = cli(['restore', backupFile], { DATABASE_URL: `sqlite:${restoredPath}` });
    expect(restored.status, restored.stderr).toBe(0);
    const db = new Database(restoredPath, { readonly: true });
    const rows = db.prepare('SELECT seq, hash FROM audit_entries ORDER BY seq').all() as Array<{ seq: number; hash: string }>;
    db.close();
    expect(rows.length).toBeGreaterThan(100);
    expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: rows.length }, (_, i) => i + 1));
    const last = rows[rows.length - 1]!.seq;
    for (const [seq, hash] of acknowledged) if (seq <= last) expect(rows[seq - 1]!.hash).toBe(hash);
    expect(cli(['verify'], { DATABASE_URL: `sqlite:${restoredPath}` }).status).toBe(0);
    expect(during).toBeGreaterThan(0); // ingest really ran while the backup was taken
    expect(acknowledged.size).toBeGreaterThan(last); // and went on after the copy
  }, 120_000);

  it('refuses to restore a backup whose chain does not verify, or over an existing database', () => {
    const backupFile = join(dir, 'backup.db');
    const tampered = join(dir, 'tampered.db');
    const src = new Database(backupFile, { readonly: true });
    src.exec(`VACUUM INTO '${tampered}'`);
    src.close();
    const db = new Database(tampered);
    db.prepare("UPDATE audit_entries SET actor_name = 'someone else' WHERE seq = 3").run();
    db.close();
    const refused = cli(['restore', tampered], { DATABASE_URL: `sqlite:${join(dir, 'never.db')}` });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('does not verify (seq 3');
    const existing = cli(['restore', backupFile], { DATABASE_URL: `sqlite:${join(dir, 'restored.db')}` });
    expect(existing.status).toBe(1);
    expect(existing.stderr).toContain('--force');
    const pg = cli(['backup', join(dir, 'x.db')], { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test' });
    expect(pg.status).toBe(2);
    expect(pg.stderr).toContain('pg_dump');
  });
});

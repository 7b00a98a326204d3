import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { freshDatabaseUrl } from '../support/backends.js';
import type { TestDatabase } from '../support/backends.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function cli(args: string[], env: Record<string, string>, input?: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { cwd: ROOT, env: { ...process.env, ...env }, input, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('trailmark CLI', () => {
  let tdb: TestDatabase;
  let env: Record<string, string>;

  beforeAll(async () => {
    tdb = await freshDatabaseUrl('sqlite');
    env = { DATABASE_URL: tdb.url, SECRET_KEY: 'cli-test-secret-key-0123456789abcdefghij' };
  });
  afterAll(async () => {
    await tdb.cleanup();
  });

  it('creates users (password from stdin) and tokens (printed once on stdout), audited', () => {
    const user = cli(['user', 'create', '--username', 'carol', '--role', 'auditor', '--password-stdin'], env, 'a-long-enough-password\n');
    expect(user.code, user.stderr).toBe(0);
    expect(user.stderr).toContain('carol (auditor) created');
    expect(user.stdout + user.stderr).not.toContain('a-long-enough-password');
    const token = cli(['token', 'create', '--name', 'scanner', '--scopes', 'audit:write,audit:read'], env);
    expect(token.code, token.stderr).toBe(0);
    expect(token.stdout.trim()).toMatch(/^tm_[0-9a-f-]{36}\.[A-Za-z0-9_-]{43}$/);
    const weak = cli(['user', 'create', '--username', 'dave', '--role', 'viewer', '--password-stdin'], env, 'short\n');
    expect(weak.code).toBe(1);
    expect(weak.stderr).toContain('at least 12 characters');
    expect(cli(['token', 'create', '--name', 'x', '--scopes', 'audit:root'], env).code).toBe(2);
    expect(cli(['user', 'create', '--username', 'x', '--role', 'king'], env).code).toBe(2);
  });

  it('verifies the stored chain, and names the first bad seq after tampering', () => {
    const ok = cli(['verify'], env);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toMatch(/OK: 2 entries verified/);
    const db = new Database(tdb.url.slice('sqlite:'.length));
    db.prepare("UPDATE audit_entries SET description = 'nothing happened' WHERE seq = 2").run();
    db.close();
    const broken = cli(['verify'], env);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain('BROKEN at seq 2');
  });

  it('explains bad configuration and usage', () => {
    const noSecret = cli(['verify'], { DATABASE_URL: tdb.url, NODE_ENV: 'production', SECRET_KEY: '' });
    expect(noSecret.code).toBe(1);
    expect(noSecret.stderr).toContain('SECRET_KEY');
    expect(cli(['frobnicate'], env).code).toBe(2);
  });
});

describe('configuration', () => {
  it('requires a long SECRET_KEY in production and reports every bad variable together', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/SECRET_KEY is required/);
    expect(() => loadConfig({ SECRET_KEY: 'short' })).toThrow(/at least 32 characters/);
    try {
      loadConfig({ NODE_ENV: 'production', PORT: 'eighty', LOG_LEVEL: 'loud' });
      expect.unreachable();
    } catch (err) {
      const msg = (err as Error).message;
      expect(msg).toContain('PORT');
      expect(msg).toContain('LOG_LEVEL');
      expect(msg).toContain('SECRET_KEY');
    }
    const cfg = loadConfig({ NODE_ENV: 'production', SECRET_KEY: 'x'.repeat(32) });
    expect(cfg).toMatchObject({ production: true, port: 8080, host: '127.0.0.1', databaseUrl: 'sqlite:./data/trailmark.db', secretKeySource: 'env' });
  });
});

describe('trailmark keys rotate', () => {
  it('retires the current key, keeps it published, and audits the rotation', async () => {
    const tdb = await freshDatabaseUrl('sqlite');
    const env = { DATABASE_URL: tdb.url, SECRET_KEY: 'cli-test-secret-key-0123456789abcdefghij' };
    try {
      const first = cli(['keys', 'rotate'], env);
      expect(first.code, first.stderr).toBe(0);
      const second = cli(['keys', 'rotate'], env);
      expect(second.code, second.stderr).toBe(0);
      const [newId] = second.stdout.trim().split(' ');
      const db = new Database(tdb.url.slice('sqlite:'.length), { readonly: true });
      const keys = db.prepare('SELECT key_id, retired_at FROM signing_keys ORDER BY created_at').all() as Array<{ key_id: string; retired_at: number | null }>;
      const rotations = db.prepare("SELECT details FROM audit_entries WHERE action = 'audit.key.rotated' ORDER BY seq").all() as Array<{ details: string }>;
      db.close();
      expect(keys).toHaveLength(3);
      expect(keys.filter((k) => k.retired_at === null).map((k) => k.key_id)).toEqual([newId]);
      expect(rotations.map((r) => JSON.parse(r.details).new_key_id)).toEqual([keys[1]!.key_id, newId]);
      expect(cli(['keys', 'rotate'], { ...env, SECRET_KEY: 'a-different-secret-key-0123456789abcdef' }).code).toBe(1);
    } finally {
      await tdb.cleanup();
    }
  });
});

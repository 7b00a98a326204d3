import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServerProcess } from '../../support/server-process.js';
import type { ServerProcess } from '../../support/server-process.js';
import { seedAuditLog } from './seed.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const ADMIN_PASSWORD = 'browser-admin-password-1';

function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(full) : statSync(full).mtimeMs);
  }
  return latest;
}

/** Builds web/dist unless it is newer than every source file (npm ci's build already made it). */
export function ensureWebBuilt(): { built: boolean; ms: number } {
  const started = Date.now();
  const index = join(ROOT, 'web/dist/index.html');
  const sources = Math.max(newest(join(ROOT, 'web/src')), statSync(join(ROOT, 'web/index.html')).mtimeMs, statSync(join(ROOT, 'web/vite.config.ts')).mtimeMs);
  if (existsSync(index) && statSync(index).mtimeMs >= sources) return { built: false, ms: 0 };
  // NODE_ENV=production: under vitest it is 'test', which would bundle React's development build.
  execFileSync(process.execPath, [join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', 'web', '--mode', 'production', '--logLevel', 'warn'], {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, NODE_ENV: 'production' },
  });
  return { built: true, ms: Date.now() - started };
}

export interface UiServer {
  readonly server: ServerProcess;
  readonly url: string;
  readonly databaseUrl: string;
  readonly seed: { ms: number; entries: number };
  stop(): Promise<void>;
}

/** A real Trailmark process on a temp SQLite database, seeded first through the recorder. */
export async function startUiServer(seed: { bulk: number; recent: number; days: number }): Promise<UiServer> {
  const dir = mkdtempSync(join(tmpdir(), 'trailmark-ui-'));
  const databaseUrl = `sqlite:${join(dir, 'trailmark.db')}`;
  const seeded = await seedAuditLog(databaseUrl, seed);
  const server = await startServerProcess({
    DATABASE_URL: databaseUrl,
    SECRET_KEY: 'browser-test-secret-key-0123456789abcdefghij',
    TRAILMARK_ADMIN_PASSWORD: ADMIN_PASSWORD,
    TRAILMARK_DATA_DIR: dir,
    NODE_ENV: 'production',
  });
  return {
    server,
    url: server.url,
    databaseUrl,
    seed: seeded,
    async stop() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

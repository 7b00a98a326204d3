import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../test/support/server-process.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface ServerOptions {
  readonly databaseUrl: string;
  /** Folder for the server's log and data dir. */
  readonly runDir: string;
  readonly label: string;
  /** As shipped, `info` (every request is logged). */
  readonly logLevel: string;
  /**
   * Starts the server under `node --cpu-prof`, writing the profile here on exit. A profiled
   * server runs `src/` under tsx, so profiles name the TypeScript modules.
   */
  readonly profileDir?: string;
}

/**
 * Compiles the server into `dist/` (what `npm start` runs), so the bench measures the build as
 * shipped — CPU and memory — from the current sources. The web UI is not needed.
 */
export function buildServerForBench(): number {
  const started = Date.now();
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`building the server failed:\n${r.stdout}${r.stderr}`);
  return Date.now() - started;
}

/** A real Trailmark server process (`node dist/cli.js start`; under tsx when profiled). */
export interface ServerHandle {
  readonly url: string;
  readonly pid: number;
  readonly logPath: string;
  /** Peak resident set (VmHWM) in MB since start or the last `resetPeak()`. */
  peakRssMb(): number;
  rssMb(): number;
  /** Resets VmHWM to the current RSS (Linux ≥ 4.0); false when the kernel refuses. */
  resetPeak(): boolean;
  stop(): Promise<void>;
}

/** Rate limits of the bench's servers (the defaults refuse a single fast client). */
export const BENCH_RATE_LIMITS = { RATE_LIMIT_API_PER_MINUTE: '10000000', RATE_LIMIT_INGEST_PER_MINUTE: '100000000', RATE_LIMIT_LOGIN_PER_MINUTE: '1000' };

export const BENCH_SECRET_KEY = 'bench-secret-key-0123456789-abcdefghijklmnop';

export async function startServer(options: ServerOptions, timeoutMs = 60_000): Promise<ServerHandle> {
  const port = await freePort();
  const logPath = join(options.runDir, `${options.label}-server.log`);
  const logFd = openSync(logPath, 'a');
  const nodeArgs = options.profileDir ? ['--cpu-prof', '--cpu-prof-dir', options.profileDir] : [];
  // Extra node flags for the server only, after tsx is loaded (e.g. an --import of a .ts
  // module that instruments the server while profiling).
  const extraArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const entry = options.profileDir ? ['--import', 'tsx', ...extraArgs, 'src/cli.ts'] : [...extraArgs, 'dist/cli.js'];
  const child = spawn(process.execPath, [...nodeArgs, ...entry, 'start'], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATABASE_URL: options.databaseUrl,
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: options.logLevel,
      SECRET_KEY: BENCH_SECRET_KEY,
      TRAILMARK_DATA_DIR: join(options.runDir, `${options.label}-data`),
      // The per-caller limits stay installed (their cost is measured) but high enough that
      // one bench client is never refused.
      ...BENCH_RATE_LIMITS,
    },
    stdio: ['ignore', logFd, logFd],
  });
  closeSync(logFd);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitListening(child, logPath, timeoutMs);
  const pid = child.pid!;
  return {
    url: `http://127.0.0.1:${port}`,
    pid,
    logPath,
    peakRssMb: () => procStatusMb(pid, 'VmHWM'),
    rssMb: () => procStatusMb(pid, 'VmRSS'),
    resetPeak: () => {
      try {
        writeFileSync(`/proc/${pid}/clear_refs`, '5');
        return true;
      } catch {
        return false;
      }
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

function waitListening(child: ChildProcess, logPath: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + timeoutMs;
    const onExit = (code: number | null): void => {
      clearInterval(timer);
      reject(new Error(`server exited with ${code} before listening:\n${tail(logPath)}`));
    };
    child.once('exit', onExit);
    const timer = setInterval(() => {
      if (/listening on/.test(readFileSync(logPath, 'utf8'))) {
        clearInterval(timer);
        child.off('exit', onExit);
        resolve();
      } else if (Date.now() > deadline) {
        clearInterval(timer);
        child.off('exit', onExit);
        child.kill('SIGKILL');
        reject(new Error(`server did not start in ${timeoutMs} ms:\n${tail(logPath)}`));
      }
    }, 100);
  });
}

function tail(path: string): string {
  return readFileSync(path, 'utf8').slice(-4000);
}

function procStatusMb(pid: number, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

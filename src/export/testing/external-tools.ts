import { spawnSync } from 'node:child_process';

/**
 * Fails when an external program the tests check exports with is not on PATH: a missing
 * tool is a broken setup (`.ci/run` installs them; see the README), never a reason to pass
 * quietly by skipping.
 */
export function requireTool(name: string): void {
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).status === 0;
  if (!found) throw new Error(`${name} is needed by the export tests: apt-get install -y qpdf poppler-utils python3 openssl`);
}

/** Runs a program to completion; returns its exit status and output. */
export function run(cmd: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...options });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

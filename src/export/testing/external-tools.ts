import { spawnSync } from 'node:child_process';

/**
 * Whether an external program is on PATH. Tests that need one skip without it on a
 * developer's machine, but in CI (`CI` set) a missing tool fails the run: CI installs it,
 * so its absence is a broken setup, never a reason to pass quietly.
 */
export function hasTool(name: string): boolean {
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).status === 0;
  if (!found && process.env.CI) throw new Error(`${name} is required in CI (apt-get install -y qpdf poppler-utils python3 openssl)`);
  return found;
}

/** Runs a program to completion; returns its exit status and output. */
export function run(cmd: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...options });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

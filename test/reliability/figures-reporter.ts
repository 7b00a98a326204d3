import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';
import { FIGURES_DIR, FIGURES_FILE, PARTS_DIR } from './helpers/figures.js';
import type { FigureValue, Totals } from './helpers/figures.js';

interface Part {
  part: string;
  totals: Totals;
  details: Record<string, FigureValue>;
}

/**
 * Clears the figures of the previous run when a run starts, and when it ends merges what
 * each test file recorded (helpers/figures.ts) with the outcome of every test into
 * `.test-artifacts/reliability/figures.json`, the source of the figures in docs/reliability.md.
 */
export default class FiguresReporter implements Reporter {
  private started = Date.now();

  onTestRunStart(): void {
    this.started = Date.now();
    rmSync(PARTS_DIR, { recursive: true, force: true });
    mkdirSync(PARTS_DIR, { recursive: true });
  }

  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const parts: Part[] = existsSync(PARTS_DIR)
      ? readdirSync(PARTS_DIR).filter((f) => f.endsWith('.json')).sort().map((f) => JSON.parse(readFileSync(join(PARTS_DIR, f), 'utf8')) as Part)
      : [];
    const totals: Required<Totals> = { events_acknowledged: 0, kills_survived: 0, fuzz_cases: 0, tamper_cases_caught: 0 };
    for (const p of parts) for (const [k, v] of Object.entries(p.totals) as Array<[keyof Totals, number]>) totals[k] += v;
    const tests = testModules.flatMap((m) =>
      [...m.children.allTests()].map((t) => ({ file: m.moduleId.replace(/^.*\/test\/reliability\//, ''), name: t.fullName, state: t.result().state, duration_ms: Math.round(t.diagnostic()?.duration ?? 0) })),
    );
    const summary = {
      finished_at: new Date().toISOString(),
      duration_s: Math.round((Date.now() - this.started) / 1000),
      totals,
      tests: { passed: tests.filter((t) => t.state === 'passed').length, failed: tests.filter((t) => t.state === 'failed').length, skipped: tests.filter((t) => t.state === 'skipped').length },
      parts,
      results: tests,
    };
    mkdirSync(FIGURES_DIR, { recursive: true });
    writeFileSync(FIGURES_FILE, `${JSON.stringify(summary, null, 2)}\n`);
    process.stdout.write(`\nreliability figures (${FIGURES_FILE}): ${JSON.stringify(totals)}; ${summary.tests.passed} passed, ${summary.tests.failed} failed, ${summary.tests.skipped} skipped in ${summary.duration_s} s\n`);
  }
}

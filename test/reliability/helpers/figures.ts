import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** Where each test file leaves its figures; the reporter merges them into one file. */
export const FIGURES_DIR = join(ROOT, '.test-artifacts', 'reliability');
export const PARTS_DIR = join(FIGURES_DIR, 'parts');
export const FIGURES_FILE = join(FIGURES_DIR, 'figures.json');

/** The totals the report quotes; every part may add to them. */
export interface Totals {
  events_acknowledged?: number;
  kills_survived?: number;
  fuzz_cases?: number;
  tamper_cases_caught?: number;
}

export type FigureValue = number | string | boolean | null | FigureValue[] | { [key: string]: FigureValue };

/**
 * Records what one test measured under `part` (e.g. `crash/sqlite`), merging with what the
 * same part recorded before in this run. `totals` are summed; `details` are replaced per key.
 */
export function recordFigures(part: string, totals: Totals, details: Record<string, FigureValue> = {}): void {
  mkdirSync(PARTS_DIR, { recursive: true });
  const file = join(PARTS_DIR, `${part.replace(/[^a-z0-9-]+/gi, '_')}.json`);
  const before = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { part: string; totals: Totals; details: Record<string, FigureValue> }) : { part, totals: {}, details: {} };
  const merged: Totals = { ...before.totals };
  for (const [k, v] of Object.entries(totals) as Array<[keyof Totals, number]>) merged[k] = (merged[k] ?? 0) + v;
  writeFileSync(file, `${JSON.stringify({ part, totals: merged, details: { ...before.details, ...details } }, null, 2)}\n`);
}

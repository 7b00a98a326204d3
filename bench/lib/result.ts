import type { BackendName } from './backend.js';

export type GroupName = 'ingest' | 'query' | 'export' | 'verify' | 'growth';
export const GROUPS: readonly GroupName[] = ['ingest', 'query', 'export', 'verify', 'growth'];

/** A target from the issue: `value` must be at least (`min`) or at most (`max`) `limit`. */
export interface Target {
  readonly kind: 'min' | 'max';
  readonly limit: number;
  /** Shown in the table, e.g. "≥ 15000 events/s". */
  readonly label: string;
}

/**
 * One measured figure beside its baseline, as written to bench/results.json.
 *
 * `ratio` is always "Trailmark's cost over the baseline's cost": time per unit of work for
 * throughputs (baseline / value) and latency for latencies (value / baseline). 1.0 means as
 * fast as the raw database doing the same work; 2.0 means twice the cost.
 * `value` is null (and `note` says why) when a path could not be measured.
 */
export interface BenchResult {
  readonly group: GroupName;
  readonly path: string;
  readonly backend: BackendName;
  readonly value: number | null;
  readonly unit: string;
  readonly baseline: number | null;
  readonly ratio: number | null;
  readonly settings: Record<string, unknown>;
  readonly target?: { readonly label: string; readonly pass: boolean | null };
  readonly note?: string;
}

const HIGHER_IS_BETTER = new Set(['events/s', 'rows/s']);

export function ratioOf(unit: string, value: number | null, baseline: number | null): number | null {
  if (value === null || baseline === null || value <= 0 || baseline <= 0) return null;
  const r = HIGHER_IS_BETTER.has(unit) ? baseline / value : value / baseline;
  return Math.round(r * 100) / 100;
}

export function judge(target: Target | undefined, value: number | null): BenchResult['target'] {
  if (!target) return undefined;
  const pass = value === null ? null : target.kind === 'min' ? value >= target.limit : value <= target.limit;
  return { label: target.label, pass };
}

/** Builds a result, computing the ratio and the pass/fail against the target. */
export function result(r: Omit<BenchResult, 'ratio' | 'target'> & { readonly targetSpec?: Target }): BenchResult {
  const { targetSpec, ...rest } = r;
  const out: BenchResult = { ...rest, ratio: ratioOf(r.unit, r.value, r.baseline) };
  const target = judge(targetSpec, r.value);
  return target ? { ...out, target } : out;
}

/** Rounds for the JSON file: 3 significant decimals for small values, integers for large. */
export function round(n: number): number {
  if (Math.abs(n) >= 1000) return Math.round(n);
  if (Math.abs(n) >= 10) return Math.round(n * 10) / 10;
  return Math.round(n * 1000) / 1000;
}

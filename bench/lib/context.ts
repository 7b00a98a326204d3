import type { BackendName } from './backend.js';
import type { GroupName } from './result.js';

/** Sizes and durations of one mode (`--quick` or full). */
export interface ModeSettings {
  readonly name: 'quick' | 'full';
  /** Entries the query, verify and export groups run at. */
  readonly querySize: number;
  /** Sizes the growth group measures at (ascending). */
  readonly growthSizes: readonly number[];
  readonly ingestWarmupMs: number;
  readonly ingestDurationMs: number;
  /** Client counts and body sizes of the ingest group. */
  readonly ingestClients: readonly number[];
  readonly ingestBodies: readonly number[];
  /** Timed requests per query path (after a few untimed ones). */
  readonly queryRuns: number;
  readonly queryWarmup: number;
  /** Most rows the verify baseline hashes (its rate is per row). */
  readonly verifyBaselineRows: number;
}

export const QUICK: ModeSettings = {
  name: 'quick',
  querySize: 100_000,
  growthSizes: [10_000, 100_000],
  ingestWarmupMs: 300,
  ingestDurationMs: 1_500,
  ingestClients: [1, 16, 64],
  ingestBodies: [1, 500],
  queryRuns: 60,
  queryWarmup: 5,
  verifyBaselineRows: 100_000,
};

export const FULL: ModeSettings = {
  name: 'full',
  querySize: 1_000_000,
  growthSizes: [100_000, 1_000_000, 5_000_000],
  ingestWarmupMs: 1_000,
  ingestDurationMs: 8_000,
  ingestClients: [1, 16, 64],
  ingestBodies: [1, 500],
  queryRuns: 300,
  queryWarmup: 10,
  verifyBaselineRows: 300_000,
};

/** What every group gets for one backend. */
export interface BackendContext {
  readonly backend: BackendName;
  readonly mode: ModeSettings;
  readonly groups: ReadonlySet<GroupName>;
  /** Scratch folder of this run (SQLite files, server logs); removed at the end. */
  readonly runDir: string;
  /** Server LOG_LEVEL; `info` as shipped. */
  readonly logLevel: string;
  /** When set, servers run under `node --cpu-prof` and write profiles here. */
  readonly profileDir?: string;
  log(line: string): void;
}

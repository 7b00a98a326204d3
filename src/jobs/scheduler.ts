import { randomUUID } from 'node:crypto';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import type { WithinAppend } from '../audit/audit.store.js';
import type { Clock } from '../lib/clock.js';
import type { SqlDatabase } from '../store/sql-database.js';
import type { JobTotals, ScheduledJob } from './scheduled-job.js';

const SYSTEM = { type: 'system' as const, id: 'system', name: 'system' };
/** A failed run is retried after this long (or the job's interval, if shorter). */
const RETRY_MS = 5 * 60_000;

export type JobOutcome = { status: 'completed'; totals: JobTotals | null; durationMs: number } | { status: 'failed'; error: string; durationMs: number } | { status: 'busy' };

/**
 * Runs jobs on their schedule, once across nodes: a node runs a job only after winning its
 * row in `scheduled_jobs` (due, and no live lease) with one conditional UPDATE. Each run is
 * recorded as system.task.completed or system.task.failed, in the same transaction that
 * schedules the next run.
 */
export class Scheduler {
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  readonly nodeId = randomUUID();

  constructor(
    private readonly db: SqlDatabase,
    private readonly recorder: AuditRecorder,
    private readonly clock: Clock,
    private readonly jobs: readonly ScheduledJob[],
    private readonly tickMs = 15_000,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.tickMs);
    this.timer.unref();
    void this.tick();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Runs every due job whose lease this node wins. */
  async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      for (const job of this.jobs) {
        try {
          if (await this.claim(job, false)) await this.execute(job);
        } catch {
          // The store is unreachable: the next tick tries again.
        }
      }
    } finally {
      this.ticking = false;
    }
  }

  /** Runs a job now (CLI, tests), still under its lease: never beside a run on another node. */
  async runNow(name: string): Promise<JobOutcome> {
    const job = this.jobs.find((j) => j.name === name);
    if (!job) throw new Error(`unknown job ${name}`);
    if (!(await this.claim(job, true))) return { status: 'busy' };
    return this.execute(job);
  }

  private async claim(job: ScheduledJob, ignoreSchedule: boolean): Promise<boolean> {
    const now = this.clock.now();
    await this.db.run('INSERT INTO scheduled_jobs (name, next_run_at, lease_until) VALUES (?, ?, 0) ON CONFLICT (name) DO NOTHING', [job.name, now]);
    const won = await this.db.run(
      `UPDATE scheduled_jobs SET lease_owner = ?, lease_until = ?, last_started_at = ? WHERE name = ? AND lease_until < ?${ignoreSchedule ? '' : ' AND next_run_at <= ?'}`,
      ignoreSchedule ? [this.nodeId, now + job.leaseMs, now, job.name, now] : [this.nodeId, now + job.leaseMs, now, job.name, now, now],
    );
    return won === 1;
  }

  private async execute(job: ScheduledJob): Promise<JobOutcome> {
    const started = this.clock.now();
    let outcome: JobOutcome;
    try {
      const totals = await job.run();
      outcome = { status: 'completed', totals, durationMs: Math.max(0, this.clock.now() - started) };
    } catch (err) {
      outcome = { status: 'failed', error: err instanceof Error ? err.message : String(err), durationMs: Math.max(0, this.clock.now() - started) };
    }
    const now = this.clock.now();
    const next = outcome.status === 'completed' ? now + job.intervalMs : now + Math.min(job.intervalMs, RETRY_MS);
    const release: WithinAppend = async (tx) => {
      await tx.run('UPDATE scheduled_jobs SET next_run_at = ?, lease_until = 0, lease_owner = NULL, last_finished_at = ?, last_status = ?, last_error = ? WHERE name = ? AND lease_owner = ?', [
        next, now, outcome.status, outcome.status === 'failed' ? outcome.error : null, job.name, this.nodeId,
      ]);
    };
    const resource = { id: job.name, name: job.name };
    if (outcome.status === 'completed' && outcome.totals === null) {
      await release(this.db);
      return outcome;
    }
    await this.recorder.record(
      outcome.status === 'completed'
        ? { action: 'system.task.completed', actor: SYSTEM, resource, details: { task: job.name, duration_ms: outcome.durationMs, totals: outcome.totals ?? {} } }
        : { action: 'system.task.failed', actor: SYSTEM, resource, details: { task: job.name, duration_ms: outcome.durationMs, error_message: outcome.status === 'failed' ? outcome.error : '' } },
      release,
    );
    return outcome;
  }
}

/** What a job's run reports: counts, written into its system.task.completed entry. */
export type JobTotals = Record<string, number | string>;

/**
 * One background job. Runs at most once at a time across every node sharing the database
 * (the scheduler holds a lease while it runs). A run must leave no half state if the node
 * dies mid-way: work in bounded batches, each committed whole.
 */
export interface ScheduledJob {
  readonly name: string;
  /** Time between the end of one run and the start of the next. */
  readonly intervalMs: number;
  /** How long a run may hold its lease before another node may take it over. */
  readonly leaseMs: number;
  /** The run's totals, or null when there is nothing worth recording (only failures are). */
  run(): Promise<JobTotals | null>;
}

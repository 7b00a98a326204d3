import type { RetentionService } from '../retention/retention.service.js';
import type { JobTotals, ScheduledJob } from './scheduled-job.js';

/** Daily retention run. */
export class RetentionJob implements ScheduledJob {
  readonly name = 'retention';
  readonly intervalMs = 24 * 60 * 60_000;
  readonly leaseMs = 60 * 60_000;

  constructor(private readonly retention: RetentionService) {}

  async run(): Promise<JobTotals> {
    const r = await this.retention.run();
    return { removed: r.removed_count, retention_days: r.retention_days, cutoff: r.cutoff };
  }
}

import type { PartitionManager } from '../store/partitions.js';
import type { JobTotals, ScheduledJob } from './scheduled-job.js';

/** Creates the audit table's time partitions ahead of time (backends that have them). */
export class PartitionsJob implements ScheduledJob {
  readonly name = 'partitions';
  readonly intervalMs = 24 * 60 * 60_000;
  readonly leaseMs = 10 * 60_000;

  constructor(
    private readonly partitions: PartitionManager,
    private readonly now: () => number,
  ) {}

  async run(): Promise<JobTotals> {
    const { created } = await this.partitions.ensure(this.now());
    return { created: created.length };
  }
}

import type { CheckpointService } from '../checkpoints/checkpoint.service.js';
import type { JobTotals, ScheduledJob } from './scheduled-job.js';

/**
 * Signs the chain head when the log grew. Its run is published as the audit.checkpoint entry
 * itself, so an idle run records nothing (otherwise each run would grow the log it watches).
 */
export class CheckpointJob implements ScheduledJob {
  readonly name = 'checkpoint';
  readonly leaseMs = 5 * 60_000;

  constructor(
    private readonly checkpoints: CheckpointService,
    readonly intervalMs: number,
  ) {}

  async run(): Promise<JobTotals | null> {
    await this.checkpoints.takeIfGrown();
    return null;
  }
}

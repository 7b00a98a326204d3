import type { Core } from './app.js';
import { StdoutMirror } from './forwarding/stdout-mirror.js';
import { CheckpointJob } from './jobs/checkpoint.job.js';
import { PartitionsJob } from './jobs/partitions.job.js';
import { RetentionJob } from './jobs/retention.job.js';
import type { ScheduledJob } from './jobs/scheduled-job.js';
import { Scheduler } from './jobs/scheduler.js';

/** Every scheduled job, each declaring its own schedule. */
export function scheduledJobs(core: Core, options: { checkpointIntervalMs?: number } = {}): ScheduledJob[] {
  const jobs: ScheduledJob[] = [new RetentionJob(core.retention), new CheckpointJob(core.checkpoints, options.checkpointIntervalMs ?? 300_000)];
  if (core.db.partitions) jobs.push(new PartitionsJob(core.db.partitions, () => core.clock.now()));
  return jobs;
}

export function buildScheduler(core: Core, options: { checkpointIntervalMs?: number } = {}): Scheduler {
  return new Scheduler(core.db, core.recorder, core.clock, scheduledJobs(core, options));
}

/**
 * What runs beside the HTTP server in `trailmark start`: the stdout mirror, webhook
 * delivery and the scheduler. Returns a stop function.
 */
export function startBackground(core: Core, options: { stdout?: NodeJS.WritableStream; checkpointIntervalMs?: number } = {}): () => void {
  const mirror = new StdoutMirror(async () => (await core.settings.get()).stdout_mirror, options.stdout);
  const unsubscribe = core.recorder.onCommit(mirror.onCommit);
  core.webhooks.start();
  const scheduler = buildScheduler(core, options);
  scheduler.start();
  return () => {
    scheduler.stop();
    core.webhooks.stop();
    unsubscribe();
  };
}

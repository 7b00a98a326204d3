import { nowMs } from './stats.js';

export interface Outcome {
  readonly ok: boolean;
  /** Work acknowledged by this request (events stored). */
  readonly units: number;
  readonly error?: string;
}

export interface LoadResult {
  /** Units acknowledged by requests that completed inside the measured window. */
  readonly units: number;
  readonly requests: number;
  readonly errors: number;
  readonly firstError?: string;
  readonly seconds: number;
  /** Latency (ms) of each request completed inside the window. */
  readonly latencies: number[];
}

/**
 * A closed loop: `clients` callers each send their next request as soon as the previous
 * one is answered. Requests completed during the warm-up are not counted; the window is
 * `durationMs` after it.
 */
export async function closedLoop(opts: {
  readonly clients: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly fire: (client: number, n: number) => Promise<Outcome>;
}): Promise<LoadResult> {
  const start = nowMs();
  const windowStart = start + opts.warmupMs;
  const windowEnd = windowStart + opts.durationMs;
  let units = 0;
  let requests = 0;
  let errors = 0;
  let firstError: string | undefined;
  const latencies: number[] = [];
  let n = 0;
  const client = async (id: number): Promise<void> => {
    while (nowMs() < windowEnd) {
      const t = nowMs();
      let outcome: Outcome;
      try {
        outcome = await opts.fire(id, n++);
      } catch (err) {
        outcome = { ok: false, units: 0, error: err instanceof Error ? err.message : String(err) };
      }
      const done = nowMs();
      if (done < windowStart || done > windowEnd) continue;
      requests += 1;
      latencies.push(done - t);
      if (outcome.ok) units += outcome.units;
      else {
        errors += 1;
        firstError ??= outcome.error;
      }
    }
  };
  await Promise.all(Array.from({ length: opts.clients }, (_, i) => client(i)));
  return { units, requests, errors, firstError, seconds: opts.durationMs / 1000, latencies };
}

import type { BackendContext } from '../lib/context.js';
import { EventGenerator } from '../lib/events.js';
import { RawInserter } from '../lib/raw-insert.js';
import type { BenchResult } from '../lib/result.js';
import { result, round } from '../lib/result.js';
import { percentile, summarize } from '../lib/stats.js';
import { buildBodies, ingestTarget, postLoad } from './ingest.js';
import type { CaseMeasurement } from './query.js';
import { queryTarget } from './query.js';

const GROWTH_BODY = 500;
const GROWTH_CLIENTS = 16;

/**
 * Cost at one log size: batched ingest over HTTP (beside bare inserts continuing the same
 * chain in the same database, which then stays valid), and the query paths' p95 (the worst
 * and the median path, each beside the bare SQL of the same path).
 */
export async function runGrowthPoint(ctx: BackendContext, serverUrl: string, token: string, location: string, size: number, queries: readonly CaseMeasurement[]): Promise<BenchResult[]> {
  const label = `@ ${size.toLocaleString('en')} entries`;
  const load = await postLoad(ctx, serverUrl, token, buildBodies(new EventGenerator(size), GROWTH_BODY), GROWTH_BODY, GROWTH_CLIENTS);
  const raw = await RawInserter.open(ctx.backend, location, 'continueChain');
  const ts = raw.startHead!.ts;
  const base = await raw.measure(GROWTH_BODY, GROWTH_CLIENTS, ctx.mode.ingestDurationMs, ts);
  await raw.moveHead(ts);
  await raw.close();
  const rate = load.units / load.seconds;
  ctx.log(`  growth ${label}: ingest ${Math.round(rate)} events/s (bare ${Math.round(base.rate)})`);
  const worst = [...queries].sort((a, b) => b.http.p95 - a.http.p95)[0]!;
  const byP95 = [...queries].sort((a, b) => a.http.p95 - b.http.p95);
  const median = byP95[Math.floor((byP95.length - 1) / 2)]!;
  const lat = summarize(load.latencies);
  const p95s = Object.fromEntries(queries.map((q) => [q.query.name, round(q.http.p95)]));
  return [
    result({
      group: 'growth', path: `ingest ${GROWTH_BODY}-event bodies ×${GROWTH_CLIENTS} clients ${label}`, backend: ctx.backend,
      value: round(rate), unit: 'events/s', baseline: round(base.rate),
      settings: { entries: size, body_events: GROWTH_BODY, clients: GROWTH_CLIENTS, seconds: load.seconds, errors: load.errors, latency_p95_ms: round(lat.p95), baseline: `${base.description}, continuing the chain in the same database` },
      targetSpec: ingestTarget(ctx, GROWTH_BODY, GROWTH_CLIENTS),
    }),
    result({
      group: 'growth', path: `query worst p95 ${label}`, backend: ctx.backend,
      value: round(worst.http.p95), unit: 'ms p95', baseline: round(worst.raw.p95),
      settings: { entries: size, worst_path: worst.query.name, p95_by_path_ms: p95s, baseline: 'the same SQL of the same path, bare driver' },
      targetSpec: queryTarget(ctx),
    }),
    result({
      group: 'growth', path: `query median-path p95 ${label}`, backend: ctx.backend,
      value: round(median.http.p95), unit: 'ms p95', baseline: round(median.raw.p95),
      settings: { entries: size, median_path: median.query.name, p95_all_paths_p50_ms: round(percentile(queries.map((q) => q.http.p95), 50)) },
    }),
  ];
}

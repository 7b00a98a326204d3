import type { BackendContext } from '../lib/context.js';
import { HttpClient } from '../lib/http-client.js';
import type { QueryCase } from '../lib/query-cases.js';
import { casePath, queryCases } from '../lib/query-cases.js';
import { caseStatements, openRawQueryRunner } from '../lib/raw-query.js';
import type { BenchResult, Target } from '../lib/result.js';
import { result, round } from '../lib/result.js';
import type { LatencySummary } from '../lib/stats.js';
import { nowMs, summarize } from '../lib/stats.js';

/** One case measured through HTTP and through the bare driver. */
export interface CaseMeasurement {
  readonly query: QueryCase;
  readonly path: string;
  readonly http: LatencySummary;
  readonly raw: LatencySummary;
  readonly httpItems: number;
  readonly rawRows: number;
  /** The plan of each statement (page, then count), joined by ` || `. */
  readonly plan: string;
}

/** Keeps one slow path from eating the run: at most this long per side of a case. */
const CASE_BUDGET_MS = { quick: 2_000, full: 15_000 } as const;
const MIN_RUNS = 15;

async function timeBounded(runs: number, warmup: number, budgetMs: number, fn: () => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const out: number[] = [];
  const t0 = nowMs();
  while (out.length < runs && (out.length < MIN_RUNS || nowMs() - t0 < budgetMs)) {
    const t = nowMs();
    await fn();
    out.push(nowMs() - t);
  }
  return out;
}

/**
 * Every query case at the current size: p50/p95 of sequential `GET /api/audit` requests
 * (one keep-alive connection, so latency is not queueing), then the same SQL through the
 * bare driver the same number of times.
 */
export async function measureQueries(ctx: BackendContext, serverUrl: string, token: string, location: string): Promise<CaseMeasurement[]> {
  const client = new HttpClient(serverUrl, 1);
  const raw = await openRawQueryRunner(ctx.backend, location);
  const headers = { authorization: `Bearer ${token}` };
  const budget = CASE_BUDGET_MS[ctx.mode.name];
  const out: CaseMeasurement[] = [];
  try {
    for (const q of queryCases(await raw.shape())) {
      const path = casePath(q);
      let httpItems = -1;
      const httpSamples = await timeBounded(ctx.mode.queryRuns, ctx.mode.queryWarmup, budget, async () => {
        const res = await client.request(path, { headers });
        if (res.status !== 200) throw new Error(`GET ${path} answered ${res.status}: ${res.body.toString().slice(0, 300)}`);
        httpItems = (JSON.parse(res.body.toString()) as { items: unknown[] }).items.length;
      });
      const statements = caseStatements(ctx.backend, q);
      let rawRows = -1;
      const rawSamples = await timeBounded(httpSamples.length, ctx.mode.queryWarmup, budget, async () => {
        rawRows = await raw.run(statements);
      });
      const plans: string[] = [];
      for (const s of statements) plans.push(await raw.explain(s));
      const m: CaseMeasurement = {
        query: q, path, http: summarize(httpSamples), raw: summarize(rawSamples), httpItems, rawRows: Math.min(rawRows, q.limit), plan: plans.join(' || '),
      };
      ctx.log(`  ${q.name.padEnd(38)} http p50 ${m.http.p50.toFixed(2)} p95 ${m.http.p95.toFixed(2)} ms | raw p50 ${m.raw.p50.toFixed(2)} p95 ${m.raw.p95.toFixed(2)} ms | ${httpItems} items`);
      out.push(m);
    }
  } finally {
    client.close();
    await raw.close();
  }
  return out;
}

export function queryTarget(ctx: BackendContext): Target {
  return ctx.backend === 'sqlite' ? { kind: 'max', limit: 10, label: 'p95 ≤ 10 ms' } : { kind: 'max', limit: 25, label: 'p95 ≤ 25 ms' };
}

/** Query results at the query size; the target applies at 1,000,000 entries (the quick size shows the trend). */
export function queryResults(ctx: BackendContext, size: number, measured: readonly CaseMeasurement[]): BenchResult[] {
  return measured.map((m) =>
    result({
      group: 'query',
      path: `GET /api/audit ${m.query.name}`,
      backend: ctx.backend,
      value: round(m.http.p95),
      unit: 'ms p95',
      baseline: round(m.raw.p95),
      settings: {
        entries: size, request: m.path, runs: m.http.n, p50_ms: round(m.http.p50), baseline_p50_ms: round(m.raw.p50),
        items: m.httpItems, baseline_rows: m.rawRows, plan: m.plan,
        baseline: 'the same SQL and parameters as SqlAuditStore.page()/count(), bare driver, sequential',
      },
      targetSpec: queryTarget(ctx),
      ...(m.httpItems !== m.rawRows ? { note: `HTTP returned ${m.httpItems} items, the bare SQL ${m.rawRows} rows` } : {}),
    }),
  );
}

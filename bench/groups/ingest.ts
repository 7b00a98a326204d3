import { readFileSync } from 'node:fs';
import { freshDatabase } from '../lib/backend.js';
import type { BackendContext } from '../lib/context.js';
import { EventGenerator } from '../lib/events.js';
import type { LoadResult } from '../lib/load.js';
import { closedLoop } from '../lib/load.js';
import { encodeRequest, RawHttpConnection } from '../lib/raw-http.js';
import { RawInserter } from '../lib/raw-insert.js';
import type { BenchResult, Target } from '../lib/result.js';
import { result, round } from '../lib/result.js';
import { createCredentials, openBenchCore } from '../lib/seed.js';
import { startServer } from '../lib/server.js';
import { summarize } from '../lib/stats.js';

export function ingestTarget(ctx: BackendContext, body: number, clients: number): Target | undefined {
  if (body > 1) return ctx.backend === 'sqlite' ? { kind: 'min', limit: 15_000, label: '≥ 15,000 events/s' } : { kind: 'min', limit: 20_000, label: '≥ 20,000 events/s' };
  if (clients === 64 && ctx.backend === 'sqlite') return { kind: 'min', limit: 8_000, label: '≥ 8,000 events/s' };
  return undefined;
}

/** Request bodies, JSON-encoded once: a pool large enough that entries vary. */
export function buildBodies(gen: EventGenerator, perBody: number): Buffer[] {
  const count = perBody === 1 ? 4_096 : 24;
  const now = Date.now();
  return Array.from({ length: count }, () =>
    Buffer.from(JSON.stringify({ events: Array.from({ length: perBody }, () => gen.toIngestJson(gen.next(now - Math.floor(Math.random() * 60_000), false))) })),
  );
}

/**
 * `clients` callers posting `bodies` in a closed loop for the mode's duration, each on a
 * keep-alive connection of its own. The requests are encoded once, and the client reads only
 * the status and body of each response (`RawHttpConnection`): the load generator shares the
 * machine's cores with the server, and what it spends is taken from the server.
 */
export async function postLoad(ctx: BackendContext, serverUrl: string, token: string, bodies: readonly Buffer[], perBody: number, clients: number): Promise<LoadResult> {
  const url = new URL(serverUrl);
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const requests = bodies.map((body) => encodeRequest('POST', url, '/api/audit/events', headers, body));
  const connections = Array.from({ length: clients }, () => new RawHttpConnection(url));
  try {
    return await closedLoop({
      clients,
      warmupMs: ctx.mode.ingestWarmupMs,
      durationMs: ctx.mode.ingestDurationMs,
      fire: async (c, n) => {
        const res = await connections[c]!.send(requests[n % requests.length]!);
        return res.status === 201 ? { ok: true, units: perBody } : { ok: false, units: 0, error: `${res.status} ${res.body.toString().slice(0, 200)}` };
      },
    });
  } finally {
    for (const c of connections) c.close();
  }
}

/**
 * HTTP `POST /api/audit/events` against a real server process on an empty database, beside
 * a bare script inserting the same kind of rows into a scratch database migrated with the
 * same schema, in transactions of the same size (one per row for 1-event bodies).
 */
export async function runIngestGroup(ctx: BackendContext): Promise<BenchResult[]> {
  const serverDb = freshDatabase(ctx.backend, ctx.runDir, 'ingest');
  const rawDb = freshDatabase(ctx.backend, ctx.runDir, 'ingest_raw');
  const { core } = await openBenchCore(serverDb.url);
  const creds = await createCredentials(core);
  await core.close();
  const server = await startServer({ databaseUrl: serverDb.url, runDir: ctx.runDir, label: `${ctx.backend}-ingest`, logLevel: ctx.logLevel, profileDir: ctx.profileDir });
  const raw = await RawInserter.open(ctx.backend, rawDb.location, 'migrate');
  const gen = new EventGenerator(11);
  const out: BenchResult[] = [];
  try {
    for (const body of ctx.mode.ingestBodies) {
      const bodies = buildBodies(gen, body);
      for (const clients of ctx.mode.ingestClients) {
        const cpu0 = processCpuMs(server.pid);
        const own0 = process.cpuUsage();
        const wall0 = performance.now();
        const load = await postLoad(ctx, server.url, creds.token, bodies, body, clients);
        const wall = performance.now() - wall0;
        const own = process.cpuUsage(own0);
        // CPU in cores (1.0 = one core busy) over the whole load, warm-up included: what the
        // server and the load generator used of the machine's cores.
        const serverCores = (processCpuMs(server.pid) - cpu0) / wall;
        const clientCores = (own.user + own.system) / 1000 / wall;
        const value = load.units / load.seconds;
        const base = await raw.measure(body, clients, ctx.mode.ingestDurationMs);
        const lat = summarize(load.latencies);
        ctx.log(`  ingest ${body}-event ×${clients}: ${Math.round(value)} events/s (bare ${Math.round(base.rate)}), p95 ${lat.p95.toFixed(1)} ms, server ${serverCores.toFixed(2)} cores, client ${clientCores.toFixed(2)}${load.errors ? `, ${load.errors} errors: ${load.firstError}` : ''}`);
        out.push(result({
          group: 'ingest',
          path: `POST /api/audit/events ${body}-event bodies ×${clients} clients`,
          backend: ctx.backend,
          value: load.errors > 0 && load.units === 0 ? null : round(value),
          unit: 'events/s',
          baseline: round(base.rate),
          settings: {
            body_events: body, clients, seconds: load.seconds, requests: load.requests, errors: load.errors,
            ...(load.firstError ? { first_error: load.firstError } : {}),
            latency_p50_ms: round(lat.p50), latency_p95_ms: round(lat.p95),
            server_cpu_cores: round(serverCores), client_cpu_cores: round(clientCores),
            durability: ctx.backend === 'sqlite' ? 'WAL, synchronous=FULL, answered after commit' : 'committed transaction, answered after commit',
            baseline: base.description, baseline_rows: base.rows, log_level: ctx.logLevel,
          },
          targetSpec: ingestTarget(ctx, body, clients),
        }));
      }
    }
  } finally {
    await raw.close();
    await server.stop();
    await serverDb.drop();
    await rawDb.drop();
  }
  return out;
}

/** User + system CPU time of a process so far, in ms (all its threads). */
function processCpuMs(pid: number): number {
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticksPerSecond = 100;
  return ((Number(fields[11]) + Number(fields[12])) / ticksPerSecond) * 1000;
}

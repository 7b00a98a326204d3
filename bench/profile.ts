import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ManualClock } from '../src/lib/clock.js';
import { buildBodies, postLoad } from './groups/ingest.js';
import { adminCookie } from './lib/api.js';
import type { BackendName } from './lib/backend.js';
import { freshDatabase } from './lib/backend.js';
import type { BackendContext } from './lib/context.js';
import { QUICK } from './lib/context.js';
import { EventGenerator } from './lib/events.js';
import { HttpClient } from './lib/http-client.js';
import { casePath, queryCases } from './lib/query-cases.js';
import { openRawQueryRunner } from './lib/raw-query.js';
import { createCredentials, openBenchCore, seedTo, timelineFor } from './lib/seed.js';
import { ROOT, startServer } from './lib/server.js';
import { nowMs } from './lib/stats.js';
import { topFunctions } from './profile-top.js';

const USAGE = `npx tsx bench/profile.ts --backend sqlite|postgres --scenario SCENARIO [--entries N] [--seconds S] [--top N]

Runs one load against a server started under node --cpu-prof and prints the server's top
self-time functions during the load only (start-up and shutdown excluded).
  ingest:BODY:CLIENTS   POST /api/audit/events, e.g. ingest:1:64 or ingest:500:16 (empty log)
  verify                GET /api/audit/verify on a log of --entries (default 100000)
  query:NAME            GET /api/audit for the named query case (e.g. "query:resource"), repeated
  export:csv|pdf        GET /api/audit/export of every entry`;

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'sqlite' },
    scenario: { type: 'string' },
    entries: { type: 'string', default: '100000' },
    seconds: { type: 'string', default: '5' },
    top: { type: 'string', default: '25' },
    'log-level': { type: 'string', default: 'info' },
  },
});
if (!values.scenario) {
  console.error(USAGE);
  process.exit(2);
}
const backend = values.backend as BackendName;
const [kind, a, b] = values.scenario.split(':');
const runDir = mkdtempSync(join(tmpdir(), 'trailmark-profile-'));
const profileDir = join(runDir, 'profiles');
const db = freshDatabase(backend, runDir, 'profile');
const ctx: BackendContext = { backend, mode: { ...QUICK, ingestWarmupMs: 500, ingestDurationMs: Number(values.seconds) * 1000 }, groups: new Set(), runDir, logLevel: values['log-level']!, log: console.log };
try {
  const timeline = timelineFor(Number(values.entries));
  const clock = new ManualClock(timeline.startMs);
  const { core } = await openBenchCore(db.url, clock);
  const creds = await createCredentials(core);
  if (kind !== 'ingest') await seedTo(core, clock, Number(values.entries), timeline, new EventGenerator(7), console.log);
  await core.close();
  const server = await startServer({ databaseUrl: db.url, runDir, label: 'profile', logLevel: ctx.logLevel, profileDir });
  let window: [number, number] = [0, 0];
  const mark = (): number => Number(process.hrtime.bigint() / 1000n);
  if (kind === 'ingest') {
    const body = Number(a ?? 1);
    const clients = Number(b ?? 64);
    const t0 = mark() + ctx.mode.ingestWarmupMs * 1000;
    const threads0 = threadCpuMs(server.pid);
    const wall0 = performance.now();
    const load = await postLoad(ctx, server.url, creds.token, buildBodies(new EventGenerator(3), body), body, clients);
    window = [t0, mark()];
    console.log(`${values.scenario}: ${Math.round(load.units / load.seconds)} events/s, ${load.errors} errors`);
    printThreadCores(threads0, threadCpuMs(server.pid), performance.now() - wall0);
    // Group commits over the whole run (warm-up included), from the server's own metrics.
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    const metric = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics)?.[1] ?? NaN);
    const groups = metric('trailmark_group_commit_entries_count');
    console.log(`group commits: ${groups}, mean ${(metric('trailmark_group_commit_entries_sum') / groups).toFixed(1)} entries each`);
  } else if (kind === 'verify') {
    const cookie = await adminCookie(server.url, creds.adminUser, creds.adminPassword);
    const client = new HttpClient(server.url, 1);
    const t0 = mark();
    const t = nowMs();
    const res = await client.request('/api/audit/verify', { headers: { cookie } });
    window = [t0, mark()];
    console.log(`verify: ${res.status} in ${(nowMs() - t).toFixed(0)} ms: ${res.body.toString().slice(0, 120)}`);
    client.close();
  } else if (kind === 'query') {
    const raw = await openRawQueryRunner(backend, db.location);
    const q = queryCases(await raw.shape()).find((c) => c.name.startsWith(a ?? ''));
    await raw.close();
    if (!q) throw new Error(`no query case starting with '${a}'`);
    const client = new HttpClient(server.url, 1);
    const t0 = mark();
    let n = 0;
    while (mark() - t0 < Number(values.seconds) * 1e6) {
      await client.request(casePath(q), { headers: { authorization: `Bearer ${creds.token}` } });
      n += 1;
    }
    window = [t0, mark()];
    console.log(`query '${q.name}': ${n} requests, ${((window[1] - window[0]) / 1000 / n).toFixed(2)} ms each`);
    client.close();
  } else if (kind === 'export') {
    const cookie = await adminCookie(server.url, creds.adminUser, creds.adminPassword);
    const client = new HttpClient(server.url, 1);
    const t0 = mark();
    const t = nowMs();
    const res = await client.stream(`/api/audit/export?format=${a ?? 'csv'}`, { headers: { cookie } }, () => undefined);
    window = [t0, mark()];
    console.log(`export ${a ?? 'csv'}: ${res.status}, ${res.bytes} bytes in ${(nowMs() - t).toFixed(0)} ms`);
    client.close();
  } else {
    throw new Error(USAGE);
  }
  await server.stop();
  const file = readdirSync(profileDir).filter((f) => f.endsWith('.0.001.cpuprofile')).map((f) => join(profileDir, f))[0]!;
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Parameters<typeof topFunctions>[0];
  const from = (window[0] - profile.startTime) / 1000;
  const to = (window[1] - profile.startTime) / 1000;
  console.log(`server self time during the load (${Math.round(to - from)} ms), % of non-idle samples:`);
  for (const r of topFunctions(profile, Number(values.top), false, false, [from, to])) console.log(`${String(r.pct).padStart(5)}%  ${String(r.ms).padStart(6)} ms  ${r.fn}`);
  console.log('inclusive (project code and the libraries on the request path):');
  const interesting = /src\/|helmet|pino|rate-limit|secure-json|fast-json-stringify|prom-client|better-sqlite3|node_modules\/pg|garbage/;
  for (const r of topFunctions(profile, 400, true, false, [from, to]).filter((r) => interesting.test(r.fn)).slice(0, Number(values.top))) console.log(`${String(r.pct).padStart(5)}%  ${String(r.ms).padStart(6)} ms  ${r.fn}`);
  console.log('by module:');
  for (const r of topFunctions(profile, 12, false, true, [from, to])) console.log(`${String(r.pct).padStart(5)}%  ${String(r.ms).padStart(6)} ms  ${r.fn}`);
  const keep = resolve(ROOT, 'bench', 'profiles', `${backend}-${values.scenario.replace(/[^a-z0-9]+/gi, '-')}.cpuprofile`);
  mkdirSync(resolve(ROOT, 'bench', 'profiles'), { recursive: true });
  copyFileSync(file, keep);
  console.log(`profile kept as ${keep}`);
  // Worker threads (SQLite writer, range and hashing workers…) write profiles of their own.
  const threads = readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile') && !f.endsWith('.0.001.cpuprofile'));
  for (const f of threads) {
    const thread = /\.(\d+)\.\d+\.cpuprofile$/.exec(f)?.[1] ?? f;
    const to = keep.replace(/\.cpuprofile$/, `-thread-${thread}.cpuprofile`);
    copyFileSync(join(profileDir, f), to);
    console.log(`worker thread ${thread}'s profile kept as ${to} (npx tsx bench/profile-top.ts FILE)`);
  }
} finally {
  await db.drop();
  rmSync(runDir, { recursive: true, force: true });
}

/** User + system CPU (ms) of each thread of a process, by thread id, with the thread's name. */
function threadCpuMs(pid: number): Map<string, { name: string; ms: number }> {
  const out = new Map<string, { name: string; ms: number }>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      out.set(tid, { name, ms: ((Number(fields[11]) + Number(fields[12])) / 100) * 1000 });
    } catch {
      // The thread ended meanwhile.
    }
  }
  return out;
}

/** Cores each thread of the server used during the load (threads under 0.01 cores left out). */
function printThreadCores(before: Map<string, { name: string; ms: number }>, after: Map<string, { name: string; ms: number }>, wallMs: number): void {
  const rows = [...after].map(([tid, t]) => ({ tid, name: t.name, cores: (t.ms - (before.get(tid)?.ms ?? 0)) / wallMs })).filter((r) => r.cores >= 0.01);
  rows.sort((a, b) => b.cores - a.cores);
  console.log(`server threads (cores over the load, warm-up included): ${rows.map((r) => `${r.name}[${r.tid}] ${r.cores.toFixed(2)}`).join(', ')}`);
}

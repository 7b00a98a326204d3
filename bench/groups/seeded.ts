import { ManualClock } from '../../src/lib/clock.js';
import { adminCookie } from '../lib/api.js';
import { freshDatabase } from '../lib/backend.js';
import type { BenchDatabase } from '../lib/backend.js';
import type { BackendContext } from '../lib/context.js';
import { EventGenerator } from '../lib/events.js';
import { openRawPgClient, openRawSqlite } from '../lib/raw-db.js';
import type { BenchResult } from '../lib/result.js';
import type { Credentials } from '../lib/seed.js';
import { createCredentials, openBenchCore, seedTo, timelineFor } from '../lib/seed.js';
import { startServer } from '../lib/server.js';
import { nowMs } from '../lib/stats.js';
import { runExportGroup } from './export.js';
import { runGrowthPoint } from './growth.js';
import type { CaseMeasurement } from './query.js';
import { measureQueries, queryResults } from './query.js';
import { runVerifyGroup } from './verify.js';

/**
 * The groups that need a populated log, on one database grown in steps: seed to each size
 * (server stopped), then start a real server and measure what that size calls for —
 * query, verify and export at the query size, growth at each growth size.
 */
export async function runSeededGroups(ctx: BackendContext): Promise<BenchResult[]> {
  const atQuerySize = ['query', 'verify', 'export'].some((g) => ctx.groups.has(g as never));
  const growth = ctx.groups.has('growth') ? ctx.mode.growthSizes : [];
  const sizes = [...new Set([...growth, ...(atQuerySize ? [ctx.mode.querySize] : [])])].sort((a, b) => a - b);
  if (sizes.length === 0) return [];
  const db = freshDatabase(ctx.backend, ctx.runDir, 'seeded');
  const timeline = timelineFor(ctx.mode.querySize);
  const clock = new ManualClock(timeline.startMs);
  const gen = new EventGenerator(7);
  const out: BenchResult[] = [];
  try {
    let creds: Credentials | undefined;
    for (const size of sizes) {
      const { core } = await openBenchCore(db.url, clock);
      creds ??= await createCredentials(core);
      const seeded = await seedTo(core, clock, size, timeline, gen, ctx.log);
      await core.close();
      ctx.log(`  seeded to ${size.toLocaleString('en')} entries (+${seeded.added.toLocaleString('en')} in ${(seeded.ms / 1000).toFixed(1)} s, ${Math.round(seeded.added / (seeded.ms / 1000))}/s through AuditRecorder)`);
      const settleMs = await settle(db);
      ctx.log(`  ${db.backend === 'sqlite' ? 'WAL checkpoint' : 'VACUUM (ANALYZE)'} in ${(settleMs / 1000).toFixed(1)} s`);
      out.push(...(await measureAt(ctx, db, size, creds, growth.includes(size))));
    }
  } finally {
    await db.drop();
  }
  return out;
}

async function measureAt(ctx: BackendContext, db: BenchDatabase, size: number, creds: Credentials, growthHere: boolean): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  const server = await startServer({ databaseUrl: db.url, runDir: ctx.runDir, label: `${ctx.backend}-${size}`, logLevel: ctx.logLevel, profileDir: ctx.profileDir });
  try {
    const atQuerySize = size === ctx.mode.querySize;
    let measured: CaseMeasurement[] | undefined;
    if (atQuerySize && ctx.groups.has('query')) {
      measured = await measureQueries(ctx, server.url, creds.token, db.location);
      out.push(...queryResults(ctx, size, measured));
    }
    if (atQuerySize && (ctx.groups.has('verify') || ctx.groups.has('export'))) {
      const cookie = await adminCookie(server.url, creds.adminUser, creds.adminPassword);
      if (ctx.groups.has('verify')) out.push(...(await runVerifyGroup(ctx, server.url, cookie, db.location, size)));
      if (ctx.groups.has('export')) out.push(...(await runExportGroup(ctx, server, cookie, db.location, size, () => headSeq(db))));
    }
    if (growthHere) {
      measured ??= await measureQueries(ctx, server.url, creds.token, db.location);
      out.push(...(await runGrowthPoint(ctx, server.url, creds.token, db.location, size, measured)));
    }
  } finally {
    await server.stop();
  }
  return out;
}

/**
 * PostgreSQL after a bulk load: VACUUM (ANALYZE), the state autovacuum keeps a live
 * database in (planner statistics, visibility map for index-only counts). SQLite: a WAL
 * checkpoint only; Trailmark runs no ANALYZE there, so neither does the bench.
 */
async function settle(db: BenchDatabase): Promise<number> {
  const t0 = nowMs();
  if (db.backend === 'sqlite') {
    const conn = openRawSqlite(db.location);
    conn.pragma('wal_checkpoint(TRUNCATE)');
    conn.close();
  } else {
    const client = await openRawPgClient(db.location);
    await client.query('VACUUM (ANALYZE) audit_entries');
    await client.end();
  }
  return nowMs() - t0;
}

async function headSeq(db: BenchDatabase): Promise<number> {
  const sql = 'SELECT seq FROM audit_chain_head WHERE id = 1';
  if (db.backend === 'sqlite') {
    const conn = openRawSqlite(db.location, true);
    try {
      return (conn.prepare(sql).get() as { seq: number }).seq;
    } finally {
      conn.close();
    }
  }
  const client = await openRawPgClient(db.location);
  try {
    return (await client.query<{ seq: number }>(sql)).rows[0]!.seq;
  } finally {
    await client.end();
  }
}

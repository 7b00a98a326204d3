import { openCore } from '../../src/app.js';
import type { Core } from '../../src/app.js';
import { ManualClock } from '../../src/lib/clock.js';
import { SYSTEM_ACTOR } from '../../src/users/user.service.js';
import type { EventGenerator } from './events.js';
import { BENCH_SECRET_KEY } from './server.js';
import { nowMs } from './stats.js';

const DAY = 86_400_000;
/** Entries per append when seeding: each batch is one group commit with one recorded time. */
const SEED_BATCH = 2_000;

/**
 * Where seeded entries sit in time: entry k is recorded at `startMs + k * msPerEntry`. The
 * rate is fixed (the query size spans 90 days), so a larger log is a longer history, as a
 * real deployment grows. The timeline starts at the bench's start and runs forward: the
 * server's own entries (system.started, logins, ingest) are recorded at the wall clock, and
 * the chain keeps `ts` non-decreasing, so seeding that resumes after a server run must stay
 * ahead of them.
 */
export interface Timeline {
  readonly startMs: number;
  readonly msPerEntry: number;
}

export function timelineFor(querySize: number, startMs = Date.now()): Timeline {
  return { startMs: Math.ceil(startMs / 60_000) * 60_000, msPerEntry: (90 * DAY) / querySize };
}

export function tsOfSeq(t: Timeline, seq: number): number {
  return Math.round(t.startMs + seq * t.msPerEntry);
}

/** What the bench needs to call the API of a prepared database. */
export interface Credentials {
  /** API token with audit:write and audit:read. */
  readonly token: string;
  readonly adminUser: string;
  readonly adminPassword: string;
}

export const ADMIN_USER = 'bench-admin';
export const ADMIN_PASSWORD = 'bench-admin-password-0123456789';

/** Opens a Trailmark core on `url` with a clock the caller moves (migrations run here). */
export async function openBenchCore(url: string, clock = new ManualClock(Date.now())): Promise<{ core: Core; clock: ManualClock }> {
  return { core: await openCore({ databaseUrl: url, clock, secretKey: BENCH_SECRET_KEY }), clock };
}

/** Creates the bench's API token and admin in a fresh database (as `trailmark token create` does). */
export async function createCredentials(core: Core): Promise<Credentials> {
  const { token } = await core.tokens.create('bench', ['audit:write', 'audit:read'], null);
  await core.users.create({ username: ADMIN_USER, password: ADMIN_PASSWORD, role: 'admin' }, SYSTEM_ACTOR);
  return { token, adminUser: ADMIN_USER, adminPassword: ADMIN_PASSWORD };
}

/**
 * Appends realistic entries through the real AuditRecorder and SqlAuditStore (real chain,
 * real group-commit transactions) until the chain holds `target` entries. Two batches are
 * kept in flight, so validating the next batch overlaps the database's work on the last.
 */
export async function seedTo(core: Core, clock: ManualClock, target: number, timeline: Timeline, gen: EventGenerator, log: (line: string) => void): Promise<{ added: number; ms: number }> {
  const t0 = nowMs();
  const from = (await core.auditStore.head()).seq;
  let queued = from;
  let nextReport = from + 250_000;
  const inFlight: Array<Promise<unknown>> = [];
  let month = -1;
  while (queued < target) {
    const n = Math.min(SEED_BATCH, target - queued);
    const ts = tsOfSeq(timeline, queued + 1);
    clock.set(ts);
    // What the PartitionsJob of a live deployment did as time passed: each month's partition
    // exists before its entries arrive (PostgreSQL; SQLite has none).
    const m = Math.floor(new Date(ts).getUTCFullYear() * 12 + new Date(ts).getUTCMonth());
    if (m !== month && core.db.partitions) {
      await Promise.all(inFlight.splice(0));
      await core.db.partitions.ensure(ts);
      month = m;
    }
    const inputs = Array.from({ length: n }, () => gen.next(ts - Math.floor(Math.random() * 120_000)));
    inFlight.push(core.recorder.recordBatch(inputs));
    queued += n;
    if (inFlight.length >= 2) await inFlight.shift();
    if (queued >= nextReport) {
      log(`    seeded ${queued.toLocaleString('en')} entries (${Math.round((queued - from) / ((nowMs() - t0) / 1000)).toLocaleString('en')}/s)`);
      nextReport += 250_000;
    }
  }
  await Promise.all(inFlight);
  const seq = (await core.auditStore.head()).seq;
  return { added: seq - from, ms: nowMs() - t0 };
}

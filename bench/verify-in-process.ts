/**
 * Verify in this process, without the HTTP server: `verifyStoredChain` with the retained
 * signed checkpoints (what `GET /api/audit/verify` runs) over a SQLite file (or any
 * `--url`), timed, several runs, with the CPU this process used (in cores: a figure well
 * below 2 on two cores means other processes had the CPU). The log is seeded up to
 * `--entries` the way the bench seeds (`seedTo`, real recorder and chain) when it holds
 * fewer, and kept for the next run. `--walk snapshot` forces the walk that reads every row in
 * this thread (hashing in the two hashing workers); `both` alternates the two walks.
 *
 *   npx tsx bench/verify-in-process.ts --file /tmp/verify-1m.db [--entries 1000000] [--runs 3] [--walk ranges|snapshot|both]
 *   npx tsx bench/verify-in-process.ts --url 'postgres://postgres@127.0.0.1:5432/test?schema=verify_bench' --entries 200000
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { sharedHashPool } from '../src/chain/hash-pool.js';
import { verifyStoredChain } from '../src/chain/verify-stored-chain.js';
import { EventGenerator } from './lib/events.js';
import { openBenchCore, seedTo, timelineFor } from './lib/seed.js';
import { nowMs } from './lib/stats.js';

const { values } = parseArgs({
  options: {
    file: { type: 'string' },
    url: { type: 'string' },
    entries: { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '3' },
    walk: { type: 'string', default: 'ranges' },
  },
});
const url = values.url ?? (values.file ? `sqlite:${values.file}` : null);
if (!url) throw new Error('--file or --url is required');
const entries = Number(values.entries);
const runs = Number(values.runs);

const { core, clock } = await openBenchCore(url);
try {
  const head = (await core.auditStore.head()).seq;
  if (head < entries) {
    const { added, ms } = await seedTo(core, clock, entries, timelineFor(entries), new EventGenerator(), (line) => console.log(line));
    console.log(`seeded ${added} entries in ${(ms / 1000).toFixed(1)} s`);
    if (core.db.dialect.name === 'sqlite') await core.db.run('PRAGMA wal_checkpoint(TRUNCATE)');
    else await core.db.run('VACUUM (ANALYZE) audit_entries');
  }
  const walks = values.walk === 'both' ? ['ranges', 'snapshot'] : [values.walk];
  const { anchor } = await core.auditStore.chainState();
  const { valid } = await core.checkpoints.verifiedAbove(anchor.seq);
  for (let i = 0; i < runs * walks.length; i++) {
    const walk = walks[i % walks.length]!;
    const load = loadavg()[0]!.toFixed(2);
    const t0 = nowMs();
    const cpu0 = process.cpuUsage();
    const result = await verifyStoredChain(core.auditStore, { checkpoints: valid, ...(walk === 'snapshot' ? { pool: sharedHashPool() } : {}) });
    const seconds = (nowMs() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const cores = ((cpu.user + cpu.system) / 1e6 / seconds).toFixed(2);
    console.log(`${walk} run ${Math.floor(i / walks.length) + 1}: ${result.checked} rows in ${seconds.toFixed(2)} s = ${Math.round(result.checked / seconds)} rows/s (ok=${result.ok}, ${cores} cores used, load average before ${load})`);
    if (!result.ok) console.log(result);
  }
} finally {
  await core.close();
}

/**
 * Verify in this process, without the HTTP server: `verifyChainWithCheckpoints` (what
 * `GET /api/audit/verify` runs) over a SQLite file, timed, several runs. The file is seeded
 * on first use the way the bench seeds (`seedTo`, real recorder and chain) and kept for the
 * next run.
 *
 *   npx tsx bench/verify-in-process.ts --file /tmp/verify-1m.db [--entries 1000000] [--runs 3]
 */
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { verifyChainWithCheckpoints } from '../src/checkpoints/verify-chain.js';
import { EventGenerator } from './lib/events.js';
import { openBenchCore, seedTo, timelineFor } from './lib/seed.js';
import { nowMs } from './lib/stats.js';

const { values } = parseArgs({
  options: {
    file: { type: 'string' },
    entries: { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '3' },
  },
});
if (!values.file) throw new Error('--file is required');
const entries = Number(values.entries);
const runs = Number(values.runs);

const seeded = existsSync(values.file);
const { core, clock } = await openBenchCore(`sqlite:${values.file}`);
try {
  const head = (await core.auditStore.head()).seq;
  if (!seeded || head < entries) {
    const { added, ms } = await seedTo(core, clock, entries, timelineFor(entries), new EventGenerator(), (line) => console.log(line));
    console.log(`seeded ${added} entries in ${(ms / 1000).toFixed(1)} s`);
    await core.db.run('PRAGMA wal_checkpoint(TRUNCATE)');
  }
  for (let i = 0; i < runs; i++) {
    const load = loadavg()[0]!.toFixed(2);
    const t0 = nowMs();
    const result = await verifyChainWithCheckpoints(core.auditStore, core.checkpoints);
    const seconds = (nowMs() - t0) / 1000;
    console.log(`run ${i + 1}: ${result.checked} rows in ${seconds.toFixed(2)} s = ${Math.round(result.checked / seconds)} rows/s (ok=${result.ok}, load average before ${load})`);
    if (!result.ok) console.log(result);
  }
} finally {
  await core.close();
}

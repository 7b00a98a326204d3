import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runIngestGroup } from './groups/ingest.js';
import { runSeededGroups } from './groups/seeded.js';
import type { BackendName } from './lib/backend.js';
import { BACKENDS, dropStaleSchemas } from './lib/backend.js';
import type { BackendContext } from './lib/context.js';
import { FULL, QUICK } from './lib/context.js';
import { machineInfo } from './lib/machine.js';
import type { MachineInfo } from './lib/machine.js';
import type { BenchResult, GroupName } from './lib/result.js';
import { GROUPS } from './lib/result.js';
import { ROOT, buildServerForBench } from './lib/server.js';
import { renderMarkdown, renderTable } from './lib/table.js';

const USAGE = `npm run bench -- [--quick] [--backend sqlite|postgres] [--group ingest,query,verify,export,growth]
                    [--profile] [--log-level info] [--out bench/results.json] [--markdown FILE]

  --quick      queries, verify and export at 100,000 entries, growth at 10k and 100k,
               1.5 s ingest runs (under 5 minutes); full: 1,000,000 entries, growth at
               100k, 1M and 5M, 8 s ingest runs
  --backend    narrow to one backend (default: both)
  --group      narrow to some groups (default: all)
  --profile    run every server under node --cpu-prof (profiles in bench/profiles/)
  --log-level  server LOG_LEVEL (default info, as shipped)
  --markdown   also write the table as Markdown to FILE`;

function parseList<T extends string>(raw: string[] | undefined, allowed: readonly T[], what: string): T[] {
  if (!raw || raw.length === 0) return [...allowed];
  const items = raw.flatMap((r) => r.split(',')).map((s) => s.trim()).filter(Boolean);
  const bad = items.find((i) => !allowed.includes(i as T));
  if (bad) throw new Error(`unknown ${what} '${bad}' (use ${allowed.join(', ')})`);
  return items as T[];
}

interface Report {
  machine: MachineInfo;
  mode: string;
  results: BenchResult[];
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      backend: { type: 'string', multiple: true },
      group: { type: 'string', multiple: true },
      profile: { type: 'boolean', default: false },
      'log-level': { type: 'string', default: 'info' },
      out: { type: 'string', default: join(ROOT, 'bench', 'results.json') },
      markdown: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const backends = parseList<BackendName>(values.backend, BACKENDS, 'backend');
  const groups = new Set(parseList<GroupName>(values.group, GROUPS, 'group'));
  const mode = values.quick ? QUICK : FULL;
  const runDir = mkdtempSync(join(tmpdir(), 'trailmark-bench-'));
  const profileDir = values.profile ? resolve(ROOT, 'bench', 'profiles') : undefined;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const started = Date.now();
  const log = (line: string): void => console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`);
  if (backends.includes('postgres')) {
    const stale = await dropStaleSchemas();
    if (stale.length > 0) log(`dropped ${stale.length} schema(s) left by an earlier run`);
  }
  const report: Report = { machine: await machineInfo(backends.includes('postgres')), mode: mode.name, results: [] };
  const save = (): void => writeFileSync(values.out, `${JSON.stringify(report, null, 2)}\n`);
  if (!profileDir) log(`built the server into dist/ in ${(buildServerForBench() / 1000).toFixed(1)} s (servers run the build, as shipped)`);
  log(`Trailmark bench (${mode.name}) on ${report.machine.cpus} × ${report.machine.model}, node ${report.machine.node}, SQLite ${report.machine.sqlite}${report.machine.postgres ? `, PostgreSQL ${report.machine.postgres}` : ''}`);
  try {
    for (const backend of backends) {
      const ctx: BackendContext = { backend, mode, groups, runDir, logLevel: values['log-level']!, profileDir, log };
      if (groups.has('ingest')) {
        log(`${backend}: ingest`);
        report.results.push(...(await runIngestGroup(ctx)));
        save();
      }
      log(`${backend}: ${[...groups].filter((g) => g !== 'ingest').join(', ')}`);
      report.results.push(...(await runSeededGroups(ctx)));
      save();
    }
  } finally {
    rmSync(runDir, { recursive: true, force: true });
  }
  console.log(`\n${renderTable(report.results)}\n`);
  if (values.markdown) writeFileSync(values.markdown, `${renderMarkdown(report.results)}\n`);
  log(`done: ${report.results.length} figures written to ${values.out}`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(1);
  },
);

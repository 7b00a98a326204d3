import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

/**
 * Top self-time functions of a V8 .cpuprofile (`node --cpu-prof`), for the notes in
 * docs/performance.md: `npx tsx bench/profile-top.ts FILE… [--top N] [--inclusive | --by-module] [--window FROM-TO ms] [--timeline]`.
 */
interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const ROOT = fileURLToPath(new URL('../', import.meta.url));

function label(f: CallFrame): string {
  const name = f.functionName || '(anonymous)';
  if (!f.url) return name;
  const path = f.url.startsWith('file://') ? relative(ROOT, fileURLToPath(f.url)) : f.url;
  // tsx-transpiled sources report line 0 for everything: the file is what helps then.
  return f.lineNumber > 0 ? `${name} ${path}:${f.lineNumber + 1}` : `${name} ${path}`;
}

/** The package (node_modules/NAME), the project file, the node: module, or the V8 pseudo-frame. */
function moduleOf(f: CallFrame): string {
  if (!f.url) return f.functionName.startsWith('(') ? f.functionName : '(native)';
  const path = f.url.startsWith('file://') ? relative(ROOT, fileURLToPath(f.url)) : f.url;
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  if (m) return `node_modules/${m[1]}`;
  if (path.startsWith('node:')) return path.replace(/^node:internal\/([^/]+).*$/, 'node:internal/$1');
  return path;
}

/** Busy (non-idle) ms in each second of the profile, to find the window of a measurement. */
export function busyTimeline(profile: CpuProfile): number[] {
  const idle = new Set(profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
  const out: number[] = [];
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    at += dt;
    const sec = Math.floor((at - profile.startTime) / 1e6);
    out[sec] = (out[sec] ?? 0) + (idle.has(id) ? 0 : dt / 1000);
  });
  return Array.from(out, (v) => Math.round(v ?? 0));
}

export function topFunctions(profile: CpuProfile, n: number, inclusive: boolean, byModule = false, window: readonly [number, number] = [0, Infinity]): Array<{ fn: string; ms: number; pct: number }> {
  const self = new Map<number, number>();
  // Sample times are the running sum of timeDeltas; `window` (ms from the start of the
  // profile) keeps only the measured load, not start-up or shutdown.
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    at += profile.timeDeltas[i] ?? 0;
    const ms = (at - profile.startTime) / 1000;
    if (ms >= window[0] && ms <= window[1]) self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const idle = [...self.entries()].filter(([id]) => byId.get(id)?.callFrame.functionName === '(idle)').reduce((a, [, t]) => a + t, 0);
  const busy = total - idle;
  const acc = new Map<string, number>();
  if (inclusive) {
    const parents = new Map<number, number>();
    for (const node of profile.nodes) for (const c of node.children ?? []) parents.set(c, node.id);
    for (const [id, t] of self) {
      const seen = new Set<string>();
      for (let cur: number | undefined = id; cur !== undefined; cur = parents.get(cur)) {
        const key = label(byId.get(cur)!.callFrame);
        if (!seen.has(key)) acc.set(key, (acc.get(key) ?? 0) + t);
        seen.add(key);
      }
    }
  } else {
    for (const [id, t] of self) {
      const frame = byId.get(id)!.callFrame;
      const key = byModule ? moduleOf(frame) : label(frame);
      acc.set(key, (acc.get(key) ?? 0) + t);
    }
  }
  acc.delete('(idle)');
  acc.delete('(root)');
  return [...acc.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([fn, us]) => ({ fn, ms: Math.round(us / 1000), pct: Math.round((1000 * us) / busy) / 10 }));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' }, inclusive: { type: 'boolean', default: false }, 'by-module': { type: 'boolean', default: false }, window: { type: 'string' }, timeline: { type: 'boolean', default: false } } });
  if (positionals.length === 0) {
    console.error('usage: npx tsx bench/profile-top.ts FILE.cpuprofile… [--top N] [--inclusive | --by-module] [--window FROM-TO ms] [--timeline]');
    process.exit(2);
  }
  for (const file of positionals) {
    const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    const ms = Math.round((profile.endTime - profile.startTime) / 1000);
    if (values.timeline) {
      console.log(`${file}: busy ms per second of the profile\n${busyTimeline(profile).map((v, i) => `${i}s:${v}`).join(' ')}`);
      continue;
    }
    const [from, to] = (values.window ?? '0-').split('-').map((v) => (v === '' ? Infinity : Number(v)));
    console.log(`${file}: ${ms} ms profiled; ${values.inclusive ? 'inclusive' : 'self'} time${values['by-module'] ? ' by module' : ''}${values.window ? ` in ${values.window} ms` : ''}, % of non-idle samples`);
    for (const row of topFunctions(profile, Number(values.top), values.inclusive, values['by-module'], [from ?? 0, to ?? Infinity])) console.log(`${String(row.pct).padStart(5)}%  ${String(row.ms).padStart(7)} ms  ${row.fn}`);
  }
}

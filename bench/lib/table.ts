import type { BenchResult } from './result.js';

const fmt = (n: number | null, unit: string): string => {
  if (n === null) return 'n/a';
  if (unit.startsWith('ms')) return n.toFixed(2);
  return Math.round(n).toLocaleString('en');
};

/** The results as a plain-text table, one row per figure, grouped as measured. */
export function renderTable(results: readonly BenchResult[]): string {
  const header = ['group', 'backend', 'path', 'value', 'baseline', 'unit', 'ratio', 'target', 'pass'];
  const rows = results.map((r) => [
    r.group,
    r.backend,
    r.path + (r.unit === 'ms p95' && typeof r.settings.p50_ms === 'number' ? ` (p50 ${fmt(r.settings.p50_ms, 'ms')} / raw ${fmt(r.settings.baseline_p50_ms as number, 'ms')})` : ''),
    fmt(r.value, r.unit),
    fmt(r.baseline, r.unit),
    r.unit,
    r.ratio === null ? '-' : `${r.ratio.toFixed(2)}×`,
    r.target?.label ?? '',
    r.target ? (r.target.pass === null ? 'n/a' : r.target.pass ? 'pass' : 'FAIL') : '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i >= 3 && i <= 6 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** The same table in Markdown, for docs/performance.md. */
export function renderMarkdown(results: readonly BenchResult[]): string {
  const head = '| group | backend | path | value | baseline | unit | ratio | target | pass |\n|---|---|---|--:|--:|---|--:|---|---|';
  const rows = results.map((r) => {
    const p50 = r.unit === 'ms p95' && typeof r.settings.p50_ms === 'number' ? ` (p50 ${fmt(r.settings.p50_ms, 'ms')}, raw ${fmt(r.settings.baseline_p50_ms as number, 'ms')})` : '';
    const pass = r.target ? (r.target.pass === null ? 'n/a' : r.target.pass ? 'pass' : '**FAIL**') : '';
    return `| ${r.group} | ${r.backend} | ${r.path}${p50}${r.note ? ` — ${r.note}` : ''} | ${fmt(r.value, r.unit)} | ${fmt(r.baseline, r.unit)} | ${r.unit} | ${r.ratio === null ? '-' : `${r.ratio.toFixed(2)}×`} | ${r.target?.label ?? ''} | ${pass} |`;
  });
  return [head, ...rows].join('\n');
}

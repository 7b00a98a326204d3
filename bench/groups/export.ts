import type { BackendContext } from '../lib/context.js';
import { HttpClient } from '../lib/http-client.js';
import { rawDump } from '../lib/raw-dump.js';
import type { BenchResult } from '../lib/result.js';
import { result, round } from '../lib/result.js';
import type { ServerHandle } from '../lib/server.js';
import { nowMs } from '../lib/stats.js';

const FORMATS = ['csv', 'pdf'] as const;
type Format = (typeof FORMATS)[number];

/** Whether the running build serves the export route (it is listed in its OpenAPI document). */
async function exportRouteExists(serverUrl: string): Promise<boolean> {
  const client = new HttpClient(serverUrl, 1);
  try {
    const res = await client.request('/docs/json');
    if (res.status !== 200) return false;
    const doc = JSON.parse(res.body.toString()) as { paths?: Record<string, unknown> };
    return Boolean(doc.paths?.['/api/audit/export']);
  } finally {
    client.close();
  }
}

/** Reads `row_count` from the manifest record at the end of a CSV export. */
function manifestRowCount(tail: string): number | null {
  const at = tail.lastIndexOf('#manifest:');
  if (at < 0) return null;
  const m = /""row_count"":(\d+)|"row_count":(\d+)/.exec(tail.slice(at));
  return m ? Number(m[1] ?? m[2]) : null;
}

/**
 * `GET /api/audit/export?format=csv|pdf` of every entry, streamed and discarded by the
 * client: rows/s and the server's peak RSS (VmHWM, reset before each export). Baseline: the
 * database's own dump of the same rows plus the row chain. Reported as not available when
 * the route does not exist in this build.
 */
export async function runExportGroup(ctx: BackendContext, server: ServerHandle, cookie: string, location: string, size: number, headSeq: () => Promise<number>): Promise<BenchResult[]> {
  if (!(await exportRouteExists(server.url))) {
    ctx.log('  export: GET /api/audit/export is not in this build: not available');
    return FORMATS.flatMap((format) => [
      result({ group: 'export', path: `GET /api/audit/export?format=${format}`, backend: ctx.backend, value: null, unit: 'rows/s', baseline: null, settings: { entries: size }, note: 'not available: the route does not exist in this build', targetSpec: rateTarget(ctx, format, null) }),
      result({ group: 'export', path: `GET /api/audit/export?format=${format} peak RSS`, backend: ctx.backend, value: null, unit: 'MB', baseline: null, settings: { entries: size }, note: 'not available: the route does not exist in this build', targetSpec: RSS_TARGET }),
    ]);
  }
  const out: BenchResult[] = [];
  let csvSeconds: number | null = null;
  for (const format of FORMATS) {
    const rows = await headSeq();
    const restRss = server.rssMb();
    const peakReset = server.resetPeak();
    const client = new HttpClient(server.url, 1);
    let tail = '';
    const t0 = nowMs();
    const res = await client.stream(`/api/audit/export?format=${format}`, { headers: { cookie } }, (chunk) => {
      if (format === 'csv') tail = (tail + chunk.toString('latin1')).slice(-8192);
    });
    const seconds = (nowMs() - t0) / 1000;
    client.close();
    const peak = server.peakRssMb();
    if (res.status !== 200) throw new Error(`GET /api/audit/export?format=${format} answered ${res.status}`);
    const exported = format === 'csv' ? (manifestRowCount(tail) ?? rows) : rows;
    if (format === 'csv') csvSeconds = seconds;
    const base = await rawDump(ctx.backend, location, rows);
    const value = exported / seconds;
    ctx.log(`  export ${format}: ${exported} rows in ${seconds.toFixed(2)} s = ${Math.round(value)} rows/s, ${(res.bytes / 1e6).toFixed(1)} MB, peak RSS ${peak.toFixed(0)} MB; bare dump ${Math.round(base.rows / base.seconds)} rows/s`);
    const settings = { entries: size, rows: exported, bytes: res.bytes, seconds: round(seconds), baseline: base.description };
    out.push(
      result({ group: 'export', path: `GET /api/audit/export?format=${format}`, backend: ctx.backend, value: round(value), unit: 'rows/s', baseline: round(base.rows / base.seconds), settings: { ...settings, ...(format === 'pdf' && csvSeconds ? { pdf_over_csv_time: round(seconds / csvSeconds) } : {}) }, targetSpec: rateTarget(ctx, format, csvSeconds === null ? null : exported / (1.5 * csvSeconds)) }),
      result({ group: 'export', path: `GET /api/audit/export?format=${format} peak RSS`, backend: ctx.backend, value: round(peak), unit: 'MB', baseline: round(restRss), settings: { entries: size, rows: exported, measure: `server VmHWM${peakReset ? ' reset before the export' : ' since start (reset refused)'}`, baseline: 'server RSS at rest before the export' }, targetSpec: RSS_TARGET }),
    );
  }
  return out;
}

const RSS_TARGET = { kind: 'max', limit: 300, label: '< 300 MB' } as const;

function rateTarget(ctx: BackendContext, format: Format, pdfFloor: number | null): { kind: 'min'; limit: number; label: string } | undefined {
  if (format === 'csv') return ctx.backend === 'sqlite' ? { kind: 'min', limit: 50_000, label: '≥ 50,000 rows/s' } : { kind: 'min', limit: 80_000, label: '≥ 80,000 rows/s' };
  return pdfFloor === null ? undefined : { kind: 'min', limit: Math.round(pdfFloor), label: 'time ≤ 1.5× CSV' };
}

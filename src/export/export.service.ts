import { Readable } from 'node:stream';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import type { AuditService, RequestContext } from '../audit/audit.service.js';
import { actorOf } from '../audit/audit.service.js';
import type { AuditQuery } from '../audit/audit.schemas.js';
import type { AuditStore } from '../audit/audit.store.js';
import type { Clock } from '../lib/clock.js';
import { AppError } from '../lib/errors.js';
import type { Metrics } from '../metrics/metrics.js';
import type { SettingsService } from '../settings/settings.service.js';
import { VERSION } from '../version.js';
import { CsvExport } from './csv-export.js';
import type { CsvExportResult } from './csv-export.js';
import type { JsonValue } from './export-manifest.js';
import { prepareEvidenceBundle } from './pdf-bundle.js';
import type { SigningKeys } from './signing-keys.js';

export type ExportFormat = 'csv' | 'pdf';
export type ExportFilters = Omit<AuditQuery, 'limit' | 'cursor' | 'after' | 'include_total'>;

/** A prepared export: headers to send, the byte stream, and what to do when it ends. */
export interface ExportDownload {
  readonly contentType: string;
  readonly fileName: string;
  /**
   * The file's bytes. Its last chunk is held back until `audit.exported` is committed, so a
   * complete file always has its record; if the stream fails or is abandoned first,
   * `audit.export.failed` is recorded instead (and the file lacks its end).
   */
  readonly body: Readable;
}

/** `trailmark-audit_<tenant>_<UTC time>.<ext>`: only safe characters, so no header injection. */
export function exportFileName(tenant: string, at: number, format: ExportFormat): string {
  const slug = tenant.normalize('NFKD').replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60) || 'tenant';
  const stamp = new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z').replaceAll(':', '');
  return `trailmark-audit_${slug}_${stamp}.${format}`;
}

/**
 * Evidence exports: the filters of GET /api/audit, streamed from the store through the CSV
 * chain (and, for PDF, into the evidence bundle). Every export is audited — as
 * `audit.exported` once the file was completely sent, or `audit.export.failed` when it was cut
 * off — and refused up front when the store cannot record that.
 */
export class ExportService {
  constructor(
    private readonly deps: {
      audit: AuditService; store: AuditStore; recorder: AuditRecorder; settings: SettingsService;
      keys: SigningKeys; clock: Clock; secretKey: string; metrics?: Metrics;
    },
  ) {}

  async start(format: ExportFormat, query: ExportFilters, ctx: RequestContext): Promise<ExportDownload> {
    const { audit, store, recorder, settings, keys, clock, secretKey, metrics } = this.deps;
    const p = ctx.principal;
    const current = await settings.get();
    if (p.kind !== 'user' || (p.role !== 'admin' && !(p.role === 'auditor' && current.auditors_may_export))) {
      throw new AppError('forbidden', p.kind === 'user' && p.role === 'auditor' ? 'Auditors may not export: an admin can allow it (setting auditors_may_export).' : 'Only admins may export the audit log.');
    }
    const filter = audit.parseFilter(query);
    const filters = exportFilters(query);
    const actor = actorOf(p);
    const base = { actor, resource: { id: 'audit_log', name: 'audit log' }, source: { ip: ctx.ip, user_agent: ctx.userAgent }, requestId: ctx.requestId };
    // Fail closed: the export is recorded before its first byte; if that cannot be recorded
    // (503), nothing is exported.
    await recorder.record({ ...base, action: 'audit.export.started', details: { format, filters } });
    const { head } = await store.chainState();
    const now = clock.now();
    const options = {
      manifest: { tenant: current.tenant_name, exported_at: now, exported_by: actor, filters, log_head: { seq: head.seq, hash: head.hash } },
      secretKey,
      signer: await keys.current(),
    };
    const entries = store.iterate(filter, { toSeq: head.seq });
    const started = process.hrtime.bigint();
    let result: () => CsvExportResult | undefined;
    let source: AsyncIterable<Buffer>;
    if (format === 'csv') {
      const csv = new CsvExport(entries, options);
      result = () => { try { return csv.result; } catch { return undefined; } };
      source = csv;
    } else {
      const bundle = await prepareEvidenceBundle(entries, { ...options, trailmarkVersion: VERSION });
      result = () => bundle.csv;
      source = bundle.render();
    }
    const finish = async (complete: boolean, error?: unknown): Promise<void> => {
      const r = result();
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics?.exportDuration.observe({ format, outcome: complete && r ? 'completed' : 'failed' }, seconds);
      if (complete && r) {
        metrics?.exportRows.inc({ format }, r.rowCount);
        await recorder.record({ ...base, action: 'audit.exported', details: { format, filters, row_count: r.rowCount, final_hash: r.finalHash, first_seq: r.firstSeq, last_seq: r.lastSeq, log_head: { seq: head.seq, hash: head.hash } } });
      } else {
        const reason = error instanceof Error ? error.message : 'the download was cut off before the file was complete';
        await recorder.record({ ...base, action: 'audit.export.failed', details: { format, filters, rows_written: r?.rowCount ?? 0, error_message: reason.slice(0, 1000) } });
      }
    };
    return {
      contentType: format === 'csv' ? 'text/csv; charset=utf-8' : 'application/pdf',
      fileName: exportFileName(current.tenant_name, now, format),
      body: Readable.from(holdLastChunkUntilRecorded(source, finish), { objectMode: false }),
    };
  }
}

/** Yields every chunk; the last one only after the completed export is recorded. */
async function* holdLastChunkUntilRecorded(source: AsyncIterable<Buffer>, finish: (complete: boolean, error?: unknown) => Promise<void>): AsyncGenerator<Buffer> {
  let settled = false;
  try {
    let held: Buffer | undefined;
    for await (const chunk of source) {
      if (held) yield held;
      held = chunk;
    }
    settled = true;
    await finish(true);
    if (held) yield held;
  } catch (err) {
    if (!settled) {
      settled = true;
      await finish(false, err).catch(() => undefined);
    }
    throw err;
  } finally {
    // Abandoned by the client mid-way (the generator was returned early).
    if (!settled) await finish(false).catch(() => undefined);
  }
}

/** The filters as the request gave them, in a form canonical JSON signs the same everywhere. */
function exportFilters(q: ExportFilters): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {};
  for (const [k, v] of Object.entries(q)) if (v !== undefined) out[k] = v as JsonValue;
  return out;
}

import type { AuditRecorder } from '../audit/audit-recorder.js';
import type { AuditStore } from '../audit/audit.store.js';
import type { ChainAnchor } from '../chain/chain-verifier.js';
import type { Clock } from '../lib/clock.js';
import type { Metrics } from '../metrics/metrics.js';
import type { ArchivedFile, Archiver } from './archiver.js';
import type { SettingsService } from '../settings/settings.service.js';

export const DAY_MS = 86_400_000;
const BATCH = 5_000;

export interface RetentionResult {
  readonly cutoff: string;
  readonly retention_days: number;
  readonly removed_count: number;
  readonly anchor: ChainAnchor | null;
}

/**
 * Applies `audit_retention_days`: removes older entries in bounded batches (each batch and
 * its new chain anchor commit together, so a crash mid-run leaves a verifiable chain), then
 * records audit.retention.purged.
 */
export class RetentionService {
  constructor(
    private readonly store: AuditStore,
    private readonly settings: SettingsService,
    private readonly recorder: AuditRecorder,
    private readonly clock: Clock,
    private readonly metrics?: Metrics,
    /** When set (ARCHIVE_DIR), entries are archived and verified before they are removed. */
    private readonly archiver?: Archiver,
  ) {}

  cutoffFor(days: number): number {
    return this.clock.now() - days * DAY_MS;
  }

  /** How many entries a run with `days` would remove now. */
  preview(days: number): Promise<number> {
    return this.store.countBefore(this.cutoffFor(days));
  }

  async run(): Promise<RetentionResult> {
    const { audit_retention_days: days, tenant_name: tenant } = await this.settings.get();
    const cutoff = this.cutoffFor(days);
    let archived: ArchivedFile[] = [];
    try {
      // Any failure here stops the run before a single entry is removed.
      if (this.archiver) archived = await this.archiver.archiveBefore(cutoff, tenant);
    } catch (err) {
      this.metrics?.retentionRuns.inc({ outcome: 'failed' });
      throw new Error(`archival failed, nothing was removed: ${err instanceof Error ? err.message : String(err)}`);
    }
    let removed = 0;
    let anchor: ChainAnchor | null = null;
    try {
      for (;;) {
        const batch = await this.store.purgeBatch(cutoff, BATCH);
        if (!batch) break;
        removed += batch.removed;
        anchor = batch.anchor;
        this.metrics?.retentionRemoved.inc(batch.removed);
      }
    } catch (err) {
      this.metrics?.retentionRuns.inc({ outcome: 'failed' });
      throw err;
    }
    this.metrics?.retentionRuns.inc({ outcome: 'completed' });
    const result = { cutoff: new Date(cutoff).toISOString(), retention_days: days, removed_count: removed, anchor };
    await this.recorder.record({
      action: 'audit.retention.purged',
      actor: { type: 'system', id: 'system', name: 'system' },
      resource: { id: 'audit_log', name: 'audit log' },
      details: {
        cutoff: result.cutoff,
        retention_days: days,
        removed_count: removed,
        ...(anchor ? { checkpoint: anchor } : {}),
        ...(this.archiver ? { archives: archived.map((a) => ({ file: a.file, sha256: a.sha256, rows: a.rows })) } : {}),
      },
    });
    return result;
  }
}

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Trailmark's Prometheus metrics, in a registry of their own (no global state, one per
 * running core). Modules receive this object and count what they do.
 */
export class Metrics {
  readonly registry = new Registry();

  readonly entriesAppended = new Counter({ name: 'trailmark_entries_appended_total', help: 'Audit entries committed, by action and severity', labelNames: ['action', 'severity'] as const, registers: [this.registry] });
  readonly ingestBatchSize = new Histogram({ name: 'trailmark_ingest_batch_size', help: 'Events per POST /api/audit/events request', buckets: [1, 5, 10, 50, 100, 250, 500, 1000], registers: [this.registry] });
  readonly ingestDuration = new Histogram({ name: 'trailmark_ingest_duration_seconds', help: 'Time from receiving an ingest request to its durable acknowledgement', buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers: [this.registry] });
  readonly groupCommitSize = new Histogram({ name: 'trailmark_group_commit_entries', help: 'Entries written by one group-commit transaction', buckets: [1, 2, 5, 10, 25, 50, 100, 500, 1000, 5000], registers: [this.registry] });
  readonly httpDuration = new Histogram({ name: 'trailmark_http_request_duration_seconds', help: 'HTTP request duration by route', labelNames: ['method', 'route', 'status'] as const, buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5], registers: [this.registry] });
  readonly exportRows = new Counter({ name: 'trailmark_export_rows_total', help: 'Rows written into exports, by format', labelNames: ['format'] as const, registers: [this.registry] });
  readonly exportDuration = new Histogram({ name: 'trailmark_export_duration_seconds', help: 'Export duration by format and outcome', labelNames: ['format', 'outcome'] as const, buckets: [0.01, 0.1, 0.5, 1, 5, 10, 30, 60, 300], registers: [this.registry] });
  readonly deliveries = new Counter({ name: 'trailmark_webhook_deliveries_total', help: 'Delivery attempts by outcome (delivered, retry, dead)', labelNames: ['outcome'] as const, registers: [this.registry] });
  readonly outboxDepth = new Gauge({ name: 'trailmark_webhook_outbox_depth', help: 'Deliveries waiting in the outbox', registers: [this.registry] });
  readonly retentionRuns = new Counter({ name: 'trailmark_retention_runs_total', help: 'Retention runs by outcome', labelNames: ['outcome'] as const, registers: [this.registry] });
  readonly retentionRemoved = new Counter({ name: 'trailmark_retention_removed_entries_total', help: 'Entries removed by retention', registers: [this.registry] });
  readonly chainVerifications = new Counter({ name: 'trailmark_chain_verifications_total', help: 'Stored-chain verifications by result', labelNames: ['result'] as const, registers: [this.registry] });

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'trailmark_' });
  }
}

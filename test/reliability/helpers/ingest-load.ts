import { SAMPLE_DETAILS } from '../../support/audit-fixtures.js';
import { call } from './http.js';
import type { HttpCaller } from './http.js';

export const MATCHED_ACTION = 'rotation.started';
export const UNMATCHED_ACTION = 'discovery.scan.completed';

/** One ingest request. Its events carry resource ids `<id>.<i>`; it is sent once, never retried. */
export interface SentBatch {
  readonly id: string;
  readonly size: number;
  /** HTTP status, or `network` when the connection failed (the outcome is unknown to the client). */
  status?: number | 'network';
  entries?: Array<{ id: string; seq: number; hash: string }>;
}

/** A row of audit_entries as the checks need it. */
export interface StoredRow {
  seq: number;
  id: string;
  hash: string;
  action: string;
  resource_id: string;
}

export function eventsOf(batch: Pick<SentBatch, 'id' | 'size'>): unknown[] {
  return Array.from({ length: batch.size }, (_, i) => {
    const action = (i + batch.size) % 3 === 0 ? UNMATCHED_ACTION : MATCHED_ACTION;
    return { action, resource: { type: action === MATCHED_ACTION ? 'secret' : 'scan', id: `${batch.id}.${i}`, name: `load ${batch.id}` }, details: SAMPLE_DETAILS[action] };
  });
}

export interface IngestLoad {
  readonly batches: SentBatch[];
  /** Resolves when the first request of this load is acknowledged. */
  readonly firstAck: Promise<void>;
  acknowledged(): number;
  /** Stops sending and waits for the requests in flight. */
  stop(): Promise<void>;
}

/**
 * `clients` concurrent producers, each sending singles (even clients) or batches of up to
 * `maxBatch` events (odd clients) until stopped, or until their connection fails when
 * `stopOnNetworkError` (the server was killed).
 */
export function startIngestLoad(options: { base: string; writer: HttpCaller; prefix: string; clients: number; maxBatch?: number; stopOnNetworkError?: boolean; pauseMs?: number }): IngestLoad {
  const batches: SentBatch[] = [];
  let stopped = false;
  let markFirst: () => void = () => undefined;
  const firstAck = new Promise<void>((resolve) => (markFirst = resolve));
  const maxBatch = options.maxBatch ?? 60;
  const run = Promise.all(
    Array.from({ length: options.clients }, async (_, c) => {
      for (let n = 0; !stopped; n++) {
        const size = c % 2 === 0 ? 1 : 2 + Math.floor(Math.random() * (maxBatch - 1));
        const batch: SentBatch = { id: `${options.prefix}-${c}-${n}`, size };
        batches.push(batch);
        try {
          const res = await call(options.base, options.writer, 'POST', '/api/audit/events', { events: eventsOf(batch) });
          batch.status = res.status;
          if (res.status === 201) {
            batch.entries = res.json<{ entries: NonNullable<SentBatch['entries']> }>().entries;
            markFirst();
          }
        } catch {
          batch.status = 'network';
          if (options.stopOnNetworkError) return;
        }
        if (options.pauseMs) await new Promise((r) => setTimeout(r, options.pauseMs));
      }
    }),
  );
  return {
    batches,
    firstAck,
    acknowledged: () => batches.filter((b) => b.status === 201).reduce((n, b) => n + b.size, 0),
    async stop() {
      stopped = true;
      await run;
    },
  };
}

/**
 * What the store holds against what was sent: every acknowledged event stored once, exactly
 * as acknowledged; every other request stored completely or not at all; nothing stored that
 * was never sent. Returns the problems found (empty when all holds) and how the requests
 * without an acknowledgement ended.
 */
export function checkStoredBatches(rows: readonly StoredRow[], batches: readonly SentBatch[], prefix: string): { problems: string[]; unackedStored: number; unackedAbsent: number } {
  const byResource = new Map<string, StoredRow[]>();
  for (const r of rows) {
    if (!r.resource_id.startsWith(`${prefix}-`)) continue;
    byResource.set(r.resource_id, [...(byResource.get(r.resource_id) ?? []), r]);
  }
  const bySeq = new Map(rows.map((r) => [Number(r.seq), r]));
  const problems: string[] = [];
  const sent = new Set<string>();
  let unackedStored = 0;
  let unackedAbsent = 0;
  for (const b of batches) {
    const stored = Array.from({ length: b.size }, (_, i) => byResource.get(`${b.id}.${i}`) ?? []);
    for (let i = 0; i < b.size; i++) sent.add(`${b.id}.${i}`);
    if (stored.some((s) => s.length > 1)) problems.push(`${b.id}: an event is stored more than once`);
    const present = stored.filter((s) => s.length === 1).length;
    if (b.status === 201) {
      b.entries!.forEach((e, i) => {
        const row = bySeq.get(e.seq);
        if (!row || row.id !== e.id || row.hash !== e.hash || row.resource_id !== `${b.id}.${i}`) problems.push(`${b.id}: acknowledged event ${i} (seq ${e.seq}) is not stored as acknowledged`);
      });
    } else if (present !== 0 && present !== b.size) {
      problems.push(`${b.id} (status ${b.status ?? 'none'}): ${present} of ${b.size} events stored — half a batch`);
    } else if (present === b.size) {
      unackedStored += 1;
    } else {
      unackedAbsent += 1;
    }
  }
  for (const id of byResource.keys()) if (!sent.has(id)) problems.push(`stored event ${id} was never sent`);
  return { problems, unackedStored, unackedAbsent };
}

export const STORED_ROWS_SQL = 'SELECT seq, id, hash, action, resource_id FROM audit_entries ORDER BY seq';

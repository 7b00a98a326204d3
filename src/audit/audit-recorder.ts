import { v7 as uuidv7 } from 'uuid';
import type { Catalog } from '../catalog/catalog.js';
import { canonicalJson } from '../chain/canonical-json.js';
import { isTime } from '../chain/chain-verifier.js';
import { AppError, invalid } from '../lib/errors.js';
import type { Actor, PendingEntry, Source, StoredEntry } from './audit-entry.js';
import type { AuditStore, WithinAppend } from './audit.store.js';
import { StoreWriteError } from './chain-writer.js';

/** What a producer says happened. Severity, category and description come from the catalog. */
export interface RecordInput {
  readonly action: string;
  readonly actor: Actor;
  /** `type` defaults to the catalog's resource type for the action. */
  readonly resource: { readonly type?: string; readonly id: string; readonly name?: string | null };
  readonly details: Record<string, unknown>;
  /** The producer's own time for the event (ms, UTC), kept beside the recorded time. */
  readonly occurredAt?: number | null;
  readonly source?: Partial<Source>;
  readonly requestId?: string | null;
}

export const MAX_DETAILS_BYTES = 32 * 1024;
export const MAX_DETAILS_DEPTH = 8;

/** Subscribers told about entries after they are committed (stdout mirror, live tail, outbox). */
export type CommitListener = (entries: readonly StoredEntry[]) => void;

/**
 * The one way anything is written to the audit log. Checks each event against the catalog,
 * derives severity and description, and appends through the store. A batch is all or
 * nothing: the first bad event refuses it with a 400 naming its index and field.
 */
export class AuditRecorder {
  private readonly listeners = new Set<CommitListener>();

  constructor(
    private readonly catalog: Catalog,
    private readonly store: AuditStore,
  ) {}

  onCommit(listener: CommitListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Records one event. `within` runs in the same transaction (fail closed: no entry, no change). */
  async record(input: RecordInput, within?: WithinAppend): Promise<StoredEntry> {
    const [entry] = await this.recordBatch([input], within, '');
    return entry!;
  }

  async recordBatch(inputs: readonly RecordInput[], within?: WithinAppend, fieldPrefix = 'events'): Promise<StoredEntry[]> {
    const pending = inputs.map((input, i) => this.prepare(input, fieldPrefix ? `${fieldPrefix}[${i}].` : ''));
    let stored: StoredEntry[];
    try {
      stored = await this.store.append(pending, within);
    } catch (err) {
      if (!(err instanceof StoreWriteError)) throw err;
      throw new AppError('store_unavailable', 'The audit store cannot record entries right now; nothing was changed.');
    }
    for (const listener of this.listeners) {
      try {
        listener(stored);
      } catch {
        // A subscriber's failure never undoes or blocks a committed entry.
      }
    }
    return stored;
  }

  /** Validates one event and turns it into a pending entry; throws a 400 naming the field. */
  prepare(input: RecordInput, at: string): PendingEntry {
    const def = this.catalog.get(input.action);
    if (!def) throw invalid(`${at}action: unknown action '${input.action}'`, { field: `${at}action` });
    if (input.occurredAt !== undefined && input.occurredAt !== null && !isTime(input.occurredAt)) {
      throw invalid(`${at}occurredAt must be a whole millisecond within the Date range`, { field: `${at}occurredAt` });
    }
    const details = input.details ?? {};
    checkShape(details, `${at}details`);
    const problem = this.catalog.checkDetails(input.action, details);
    if (problem) throw invalid(`${at}${problem.field} ${problem.message}`, { field: `${at}${problem.field}` });
    const detailsJson = canonicalJson(details);
    if (Buffer.byteLength(detailsJson) > MAX_DETAILS_BYTES) {
      throw invalid(`${at}details is larger than ${MAX_DETAILS_BYTES} bytes`, { field: `${at}details` });
    }
    const resource = { type: cleanText(input.resource.type ?? def.resourceType), id: cleanText(input.resource.id), name: cleanNullable(input.resource.name ?? null) };
    const actor = { type: input.actor.type, id: cleanNullable(input.actor.id), name: cleanNullable(input.actor.name) };
    return {
      id: uuidv7(),
      occurred_at: input.occurredAt ?? null,
      action: def.action,
      category: def.category,
      severity: def.severity,
      actor,
      resource,
      description: cleanText(this.catalog.describe(def.action, { actor, resource, details })),
      detailsJson,
      source: { ip: cleanNullable(input.source?.ip ?? null), user_agent: cleanNullable(input.source?.user_agent ?? null), token_id: input.source?.token_id ?? null },
      request_id: cleanNullable(input.requestId ?? null),
    };
  }
}

/**
 * Text stored in its own column must survive the database unchanged, or its entry would never
 * verify again: lone UTF-16 surrogates (which UTF-8 cannot hold) and NUL (which PostgreSQL text
 * refuses) become U+FFFD before hashing. Details are stored as JSON text, where they are escaped.
 */
export function cleanText(s: string): string {
  // Most text holds no NUL and no surrogate at all (paired or not): one scan says so.
  if (!MAYBE_UNCLEAN.test(s)) return s;
  return s.replace(/\p{Cs}/gu, '\uFFFD').replaceAll('\u0000', '\uFFFD');
}
/** Any NUL or UTF-16 surrogate code unit (without the u flag, each half of a pair matches too). */
// eslint-disable-next-line no-control-regex -- NUL is exactly what this looks for
const MAYBE_UNCLEAN = /[\u0000\ud800-\udfff]/;
const cleanNullable = (s: string | null): string | null => (s === null ? null : cleanText(s));

/** Details must be plain JSON (no Date or class instances), not too deep, with finite numbers only. */
function checkShape(value: unknown, field: string, depth = 0): void {
  if (depth === 0 && (typeof value !== 'object' || value === null || Array.isArray(value))) {
    throw invalid(`${field} must be an object`, { field });
  }
  if (depth > MAX_DETAILS_DEPTH) throw invalid(`${field} is nested deeper than ${MAX_DETAILS_DEPTH} levels`, { field });
  if (typeof value === 'number' && !Number.isFinite(value)) throw invalid(`${field} must be a finite number`, { field });
  if (typeof value === 'object' && value !== null) {
    const proto = Object.getPrototypeOf(value) as unknown;
    if (!Array.isArray(value) && proto !== Object.prototype && proto !== null) throw invalid(`${field} must be plain JSON (not a ${value.constructor?.name ?? 'class instance'})`, { field });
    for (const [k, v] of Object.entries(value)) checkShape(v, Array.isArray(value) ? `${field}[${k}]` : `${field}.${k}`, depth + 1);
  }
}

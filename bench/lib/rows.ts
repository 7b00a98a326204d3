import { v7 as uuidv7 } from 'uuid';
import type { PendingEntry, StoredEntry } from '../../src/audit/audit-entry.js';
import { AuditRecorder } from '../../src/audit/audit-recorder.js';
import type { RecordInput } from '../../src/audit/audit-recorder.js';
import type { AuditStore } from '../../src/audit/audit.store.js';
import { ENTRY_COLUMNS, entrySearchTerms, entryToParams } from '../../src/audit/entry-row.js';
import { Catalog } from '../../src/catalog/catalog.js';
import { CHAIN_GENESIS, chainHash } from '../../src/chain/entry-hash.js';
import type { SqlValue } from '../../src/store/sql-database.js';

const NO_STORE = {} as AuditStore;

/** The catalog checks and derived fields Trailmark applies to an event, without storing it. */
export function prepareEntries(inputs: readonly RecordInput[]): PendingEntry[] {
  const recorder = new AuditRecorder(new Catalog(), NO_STORE);
  return inputs.map((input, i) => recorder.prepare(input, `events[${i}].`));
}

/**
 * Rows exactly as the chain writer stores them (same columns, sizes, real chain hashes),
 * made from a pool of prepared entries, for the bare-insert baselines.
 */
export class RowFactory {
  private i = 0;
  constructor(
    private readonly templates: readonly PendingEntry[],
    private seq = 0,
    private prevHash = CHAIN_GENESIS,
    /** The backend's search vector, appended to each row where it keeps one (PostgreSQL). */
    private readonly searchVector: ((terms: readonly string[]) => string) | null = null,
  ) {}

  next(ts: number): SqlValue[] {
    const tpl = this.templates[this.i++ % this.templates.length]!;
    this.seq += 1;
    const base = { ...tpl, id: uuidv7(), seq: this.seq, ts };
    const hash = chainHash(this.prevHash, base);
    const stored: StoredEntry = { ...base, prev_hash: this.prevHash, hash };
    this.prevHash = hash;
    return this.searchVector ? [...entryToParams(stored), this.searchVector(entrySearchTerms(stored))] : entryToParams(stored);
  }

  /** `n` rows, each a parameter list in ENTRY_COLUMNS order. */
  take(n: number, ts: number): SqlValue[][] {
    return Array.from({ length: n }, () => this.next(ts));
  }

  /** Continues the chain after (`seq`, `hash`) instead of the last row made. */
  reset(seq: number, hash: string): void {
    this.seq = seq;
    this.prevHash = hash;
  }

  get head(): { seq: number; hash: string } {
    return { seq: this.seq, hash: this.prevHash };
  }
}

/**
 * `INSERT … VALUES (…), (…)` for `rows` entries with every column the server writes: on
 * PostgreSQL (`withSearch`) the search vector too, as a tsvector parameter.
 */
export function insertSql(rows: number, withSearch = false): string {
  const columns = withSearch ? [...ENTRY_COLUMNS, 'search'] : [...ENTRY_COLUMNS];
  const one = `(${ENTRY_COLUMNS.map(() => '?').join(', ')}${withSearch ? ', ?::tsvector' : ''})`;
  return `INSERT INTO audit_entries (${columns.join(', ')}) VALUES ${Array.from({ length: rows }, () => one).join(', ')}`;
}

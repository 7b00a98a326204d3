import { createHash } from 'node:crypto';
import type { BackendName } from './backend.js';
import { copyOut, lineSplitter } from './pg-copy-out.js';
import { openRawPgClient, openRawSqlite } from './raw-db.js';
import { nowMs } from './stats.js';

/** The columns a CSV export carries (EXPORT-FORMAT.md), in order. */
const EXPORT_COLUMNS = 'seq, ts, action, severity, actor_type, actor_id, actor_name, resource_type, resource_id, resource_name, description, details';

/** Row chain as the export's: h_i = SHA-256(h_{i-1} ‖ record bytes), over raw 32-byte hashes. */
class Chain {
  private head = createHash('sha256').update('trailmark:audit-export:v1', 'ascii').digest();
  next(bytes: Buffer | string): void {
    this.head = createHash('sha256').update(this.head).update(bytes).digest();
  }
  get hex(): string {
    return this.head.toString('hex');
  }
}

const NEEDS_QUOTES = /[",\r\n]/;
const field = (v: unknown): string => {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return NEEDS_QUOTES.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
};

/**
 * The database's own fastest dump of the rows an export covers, plus the export's row
 * chain: SQLite iterating one statement (CSV-joined in JS), PostgreSQL `COPY (…) TO STDOUT
 * (FORMAT csv)`. No manifest, no formula guard, no timestamp formatting.
 */
export async function rawDump(backend: BackendName, location: string, toSeq: number): Promise<{ rows: number; seconds: number; finalHash: string; description: string }> {
  const chain = new Chain();
  let rows = 0;
  if (backend === 'sqlite') {
    const conn = openRawSqlite(location, true);
    try {
      const stmt = conn.prepare(`SELECT ${EXPORT_COLUMNS} FROM audit_entries WHERE seq <= ? ORDER BY seq`).raw(true);
      const t0 = nowMs();
      for (const row of stmt.iterate(toSeq) as IterableIterator<unknown[]>) {
        chain.next(row.map(field).join(','));
        rows += 1;
      }
      return { rows, seconds: (nowMs() - t0) / 1000, finalHash: chain.hex, description: 'bare better-sqlite3 statement iterate, CSV join + SHA-256 row chain' };
    } finally {
      conn.close();
    }
  }
  const client = await openRawPgClient(location);
  try {
    const t0 = nowMs();
    const lines = lineSplitter((line) => {
      chain.next(line);
      rows += 1;
    });
    await copyOut(client, `COPY (SELECT ${EXPORT_COLUMNS} FROM audit_entries WHERE seq <= ${Math.floor(toSeq)} ORDER BY seq) TO STDOUT WITH (FORMAT csv)`, (c) => lines.push(c));
    lines.end();
    return { rows, seconds: (nowMs() - t0) / 1000, finalHash: chain.hex, description: 'bare pg COPY (SELECT … ORDER BY seq) TO STDOUT (FORMAT csv) + SHA-256 row chain' };
  } finally {
    await client.end();
  }
}

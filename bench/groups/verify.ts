import { createHash } from 'node:crypto';
import type { EntryRow } from '../../src/audit/entry-row.js';
import { ENTRY_SELECT, rowToEntry } from '../../src/audit/entry-row.js';
import { canonicalEntry } from '../../src/chain/entry-hash.js';
import type { BackendContext } from '../lib/context.js';
import { HttpClient } from '../lib/http-client.js';
import { openRawPgClient, openRawSqlite } from '../lib/raw-db.js';
import type { BenchResult } from '../lib/result.js';
import { result, round } from '../lib/result.js';
import { nowMs } from '../lib/stats.js';

/**
 * `GET /api/audit/verify` (admin) re-walks the whole chain; beside it, SHA-256 over the same
 * canonical bytes of the first rows in a bare loop (bytes built before the clock starts).
 */
export async function runVerifyGroup(ctx: BackendContext, serverUrl: string, cookie: string, location: string, size: number): Promise<BenchResult[]> {
  const client = new HttpClient(serverUrl, 1);
  const t0 = nowMs();
  const res = await client.request('/api/audit/verify', { headers: { cookie } });
  const seconds = (nowMs() - t0) / 1000;
  client.close();
  if (res.status !== 200) throw new Error(`GET /api/audit/verify answered ${res.status}: ${res.body.toString().slice(0, 300)}`);
  const body = JSON.parse(res.body.toString()) as { ok: boolean; checked: number };
  const value = body.checked / seconds;
  const base = await bareHashRate(ctx, location, ctx.mode.verifyBaselineRows);
  ctx.log(`  verify: ${body.checked} rows in ${seconds.toFixed(2)} s = ${Math.round(value)} rows/s (ok=${body.ok}); bare SHA-256 loop ${Math.round(base.rate)} rows/s`);
  return [
    result({
      group: 'verify',
      path: 'GET /api/audit/verify',
      backend: ctx.backend,
      value: round(value),
      unit: 'rows/s',
      baseline: round(base.rate),
      settings: { entries: size, checked: body.checked, ok: body.ok, seconds: round(seconds), baseline: `SHA-256(prev ‖ canonical entry bytes) over ${base.rows} rows in a bare loop, bytes prepared before timing` },
      targetSpec: { kind: 'min', limit: 200_000, label: '≥ 200,000 rows/s' },
      ...(body.ok ? {} : { note: 'the chain did not verify' }),
    }),
  ];
}

async function readRows(ctx: BackendContext, location: string, limit: number): Promise<EntryRow[]> {
  const sql = `SELECT ${ENTRY_SELECT} FROM audit_entries ORDER BY seq LIMIT ${Math.floor(limit)}`;
  if (ctx.backend === 'sqlite') {
    const conn = openRawSqlite(location, true);
    try {
      return conn.prepare(sql).all() as EntryRow[];
    } finally {
      conn.close();
    }
  }
  const client = await openRawPgClient(location);
  try {
    return (await client.query<EntryRow>(sql)).rows;
  } finally {
    await client.end();
  }
}

async function bareHashRate(ctx: BackendContext, location: string, limit: number): Promise<{ rate: number; rows: number }> {
  const rows = await readRows(ctx, location, limit);
  const bytes = rows.map((r) => Buffer.from(canonicalEntry(rowToEntry(r)), 'utf8'));
  let prev: Buffer = Buffer.from(rows[0]?.prev_hash ?? '', 'hex');
  const t0 = nowMs();
  for (const b of bytes) prev = createHash('sha256').update(prev).update(b).digest();
  const seconds = (nowMs() - t0) / 1000;
  if (rows.length > 0 && prev.toString('hex') !== rows[rows.length - 1]!.hash) throw new Error('bare verify loop did not reproduce the stored hashes');
  return { rate: bytes.length / seconds, rows: bytes.length };
}

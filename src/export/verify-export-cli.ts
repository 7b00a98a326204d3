import { parseArgs } from 'node:util';
import { canonicalJson } from '../chain/canonical-json.js';
import type { ExportVerification, VerifyOptions } from './verify-export.js';
import { verifyExport } from './verify-export.js';
import { fetchPublishedKey } from './published-keys.js';

const USAGE = 'usage: trailmark verify FILE [--secret-key K] [--public-key B64URL] [--keys-url URL]';

/**
 * `trailmark verify FILE …`: verifies a CSV export or PDF evidence bundle offline and prints
 * what it covers and, on failure, the first bad record and why. `argv` starts at FILE.
 * Returns the exit code: 0 valid, 1 invalid or unreadable, 2 bad usage.
 */
export async function verifyExportCommand(argv: string[], out: (line: string) => void): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { 'secret-key': { type: 'string' }, 'public-key': { type: 'string' }, 'keys-url': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (err) {
    out(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    out(USAGE);
    return 0;
  }
  const [file, ...extra] = positionals;
  if (file === undefined || extra.length > 0 || (values['public-key'] !== undefined && values['keys-url'] !== undefined)) {
    out(`${file === undefined ? 'no file given' : extra.length > 0 ? `unexpected argument '${extra[0]}'` : 'give --public-key or --keys-url, not both'}\n${USAGE}`);
    return 2;
  }
  const keysUrl = values['keys-url'];
  const options: VerifyOptions = {
    ...(values['secret-key'] !== undefined ? { secretKey: values['secret-key'] } : {}),
    ...(values['public-key'] !== undefined ? { publicKey: values['public-key'] } : {}),
    ...(keysUrl !== undefined ? { resolvePublicKey: (keyId: string) => fetchPublishedKey(keysUrl, keyId) } : {}),
  };
  let result: ExportVerification;
  try {
    result = await verifyExport(file, options);
  } catch (err) {
    out(`INVALID: cannot read ${file}: ${(err as Error).message}`);
    return 1;
  }
  for (const line of describe(file, result)) out(line);
  return result.ok ? 0 : 1;
}

function describe(file: string, r: ExportVerification): string[] {
  const m = r.manifest;
  const lines = [
    `File:        ${file} (${r.kind === 'pdf' ? 'PDF evidence bundle, embedded audit-export.csv' : 'CSV export'})`,
    `CSV SHA-256: ${r.csv_sha256} (${r.csv_bytes} bytes)`,
    `Rows:        ${r.row_count}`,
    `Seq range:   ${r.first_seq === null ? 'none' : `${r.first_seq}..${r.last_seq}`}`,
    `Final hash:  ${r.final_hash}`,
    `Filters:     ${r.filters ? canonicalJson(r.filters) : '(no manifest)'}`,
  ];
  if (m) {
    lines.push(`Tenant:      ${String(m.tenant)}`, `Exported:    ${String(m.exported_at)} by ${canonicalJson(m.exported_by ?? null)}`);
    if (m.log_head && typeof m.log_head === 'object') lines.push(`Log head:    seq ${String(m.log_head.seq)}, hash ${String(m.log_head.hash)}`);
  }
  lines.push(
    `Records:     ${r.checks.records === 'verified' ? 'chain, counts and final hash verified' : 'FAILED'}`,
    `HMAC:        ${status(r.checks.hmac, 'no --secret-key given')}`,
    `Signature:   ${status(r.checks.signature, 'no --public-key or --keys-url given')}${m && typeof m.key_id === 'string' ? ` (key ${m.key_id})` : ''}`,
  );
  if (r.ok) {
    lines.push('VALID');
  } else {
    const first = r.errors[0];
    lines.push(`INVALID: ${r.error_count} problem${r.error_count === 1 ? '' : 's'}`);
    if (first) lines.push(`First bad record: ${where(first)}: ${first.reason}`);
    for (const e of r.errors.slice(1, 10)) lines.push(`  also ${where(e)}: ${e.reason}`);
  }
  return lines;
}

const status = (s: string, why: string): string => (s === 'verified' ? 'verified' : s === 'failed' ? 'FAILED' : `not checked (${why})`);
const where = (e: { record: number; seq?: number }): string => (e.record === 0 ? 'file' : `record ${e.record}${e.seq !== undefined ? ` (seq ${e.seq})` : ''}`);

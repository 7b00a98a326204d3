import type { StoredEntry } from '../../audit/audit-entry.js';
import { canonicalJson } from '../../chain/canonical-json.js';
import { CsvExport } from '../csv-export.js';
import type { CsvExportResult } from '../csv-export.js';
import { keyIdFor, privateKeyFromSeed, rawPublicKey } from '../ed25519-keys.js';
import type { ManifestInput } from '../export-manifest.js';
import type { ManifestSigner } from '../manifest-signing.js';

/** Test-only material: a fixed SECRET_KEY and Ed25519 seed, never used outside tests. */
export const TEST_SECRET_KEY = 'test-secret-key-0123456789abcdef-0123456789';
const TEST_SEED = Buffer.alloc(32, 7);

export function testSigner(seed: Buffer = TEST_SEED): ManifestSigner & { readonly publicKey: string } {
  const privateKey = privateKeyFromSeed(seed);
  const publicKey = rawPublicKey(privateKey);
  return { keyId: keyIdFor(publicKey), privateKey, publicKey };
}

/** A stored entry with every column filled, for writer and verifier tests. */
export function buildStoredEntry(seq: number, overrides: Partial<StoredEntry> = {}): StoredEntry {
  return {
    id: `0190a000-0000-7000-8000-${String(seq).padStart(12, '0')}`,
    seq,
    ts: Date.UTC(2026, 10, 24, 12, 0, 0) + seq * 1000,
    occurred_at: null,
    action: 'rotation.started',
    category: 'rotation',
    severity: 'info',
    actor: { type: 'worker', id: 'tok-1', name: 'rotation-worker' },
    resource: { type: 'secret', id: `res-${seq}`, name: `resource ${seq}` },
    description: `Rotation of db-password for billing-api started`,
    detailsJson: canonicalJson({ app_name: 'billing-api', initiated_by: 'alice', secret_name: 'db-password' }),
    source: { ip: null, user_agent: null, token_id: null },
    request_id: null,
    prev_hash: '00'.repeat(32),
    hash: '00'.repeat(32),
    ...overrides,
  };
}

export function buildManifestInput(overrides: Partial<ManifestInput> = {}): ManifestInput {
  return {
    tenant: 'acme',
    exported_at: Date.UTC(2026, 10, 24, 13, 0, 0),
    exported_by: { type: 'user', id: 'u-1', name: 'admin' },
    filters: { action: ['rotation.*'] },
    log_head: { seq: 1_000_000_000, hash: 'ab'.repeat(32) },
    ...overrides,
  };
}

export async function* fromArray<T>(items: Iterable<T>): AsyncGenerator<T> {
  yield* items;
}

/** Writes an export of `entries` to one Buffer (small exports only). */
export async function exportToBuffer(entries: Iterable<StoredEntry> | AsyncIterable<StoredEntry>, manifest = buildManifestInput()): Promise<{ bytes: Buffer; result: CsvExportResult }> {
  const source = Symbol.asyncIterator in entries ? entries : fromArray(entries);
  const csv = new CsvExport(source, { manifest, secretKey: TEST_SECRET_KEY, signer: testSigner() });
  const chunks: Buffer[] = [];
  for await (const chunk of csv) chunks.push(chunk);
  return { bytes: Buffer.concat(chunks), result: csv.result };
}

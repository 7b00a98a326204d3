import { createHash, createHmac, sign, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { StoredEntry } from '../audit/audit-entry.js';
import { canonicalJson } from '../chain/canonical-json.js';
import { CsvExport } from './csv-export.js';
import { keyIdFor, privateKeyFromSeed, publicKeyFromRaw, rawPublicKey } from './ed25519-keys.js';
import type { ManifestInput } from './export-manifest.js';
import { EXPORT_FORMAT_DOC, keyValues, workedExampleBlocks } from './testing/doc-blocks.js';
import { verifyExportStream } from './verify-export.js';

const blocks = workedExampleBlocks();
const block = (name: string): string => {
  const b = blocks.get(name);
  if (b === undefined) throw new Error(`docs/export-format.md has no worked-example:${name} block`);
  return b;
};
const kv = (name: string, key: string): string => {
  const v = keyValues(block(name)).get(key);
  if (v === undefined) throw new Error(`worked-example:${name} has no ${key}`);
  return v;
};
const sha256 = (...parts: Uint8Array[]): Buffer => parts.reduce((h, p) => h.update(p), createHash('sha256')).digest();

/** The file as it is on disk: every line break CRLF, one after the last line too. */
const fileBytes = Buffer.from(`${block('file').replaceAll('\n', '\r\n')}\r\n`, 'utf8');
const fileRecords = block('file').split('\n');
const secretKey = kv('keys', 'SECRET_KEY');
const seed = Buffer.from(kv('keys', 'ed25519_seed_hex'), 'hex');

interface DocEntry {
  seq: number;
  timestamp: string;
  action: string;
  severity: StoredEntry['severity'];
  actor: StoredEntry['actor'];
  resource: StoredEntry['resource'];
  description: string;
  details: Record<string, unknown>;
}

describe('docs/export-format.md worked example', () => {
  it('has every block the test reads', () => {
    expect([...blocks.keys()].sort()).toEqual(['chain', 'entries', 'file', 'keys', 'manifest', 'openssl', 'signed-bytes', 'signing']);
  });

  it('states the genesis the code uses, in the text and in the chain block', () => {
    const genesis = sha256(Buffer.from('trailmark:audit-export:v1', 'ascii')).toString('hex');
    expect(kv('chain', 'h_0')).toBe(genesis);
    expect(EXPORT_FORMAT_DOC).toContain(`\`GENESIS\` in hex is \`${genesis}\``);
  });

  it('derives the public key and key_id from the stated seed (RFC 8032 TEST 1)', () => {
    const publicKey = rawPublicKey(privateKeyFromSeed(seed));
    expect(publicKey).toBe(kv('keys', 'public_key'));
    expect(Buffer.from(publicKey, 'base64url').toString('hex')).toBe(kv('keys', 'public_key_hex'));
    expect(kv('keys', 'public_key_hex')).toBe('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
    expect(sha256(Buffer.from(publicKey, 'base64url')).toString('hex').slice(0, 16)).toBe(kv('keys', 'key_id'));
  });

  it('recomputes every row hash, content length and the stated file size', () => {
    let h = sha256(Buffer.from('trailmark:audit-export:v1', 'ascii'));
    const rows = fileRecords.slice(1, -1);
    rows.forEach((record, i) => {
      const content = Buffer.from(record, 'utf8').subarray(0, -65);
      expect(content.length).toBe(Number(kv('chain', `content_${i + 1}_bytes`)));
      h = sha256(h, content);
      expect(kv('chain', `h_${i + 1}`)).toBe(h.toString('hex'));
      expect(record.slice(-65)).toBe(`,${h.toString('hex')}`);
    });
    expect(fileRecords[0]).toBe('seq,timestamp,action,severity,actor_type,actor_id,actor_name,resource_type,resource_id,resource_name,description,details,row_hash');
    expect(EXPORT_FORMAT_DOC).toContain(`the file is ${fileBytes.length.toLocaleString('en-US')} bytes`);
  });

  it('recomputes the manifest, signed_bytes, K, the HMAC and the signature', () => {
    const last = fileRecords.at(-1)!;
    const manifest = JSON.parse(last.slice(1, -1).replaceAll('""', '"').slice('#manifest:'.length)) as Record<string, unknown>;
    expect(manifest).toEqual(JSON.parse(block('manifest')));
    expect(canonicalJson(manifest)).toBe(last.slice(1, -1).replaceAll('""', '"').slice('#manifest:'.length));
    const rows = fileRecords.slice(1, -1);
    expect(manifest).toMatchObject({ row_count: rows.length, first_seq: 101, last_seq: 104, final_hash: kv('chain', `h_${rows.length}`), key_id: kv('keys', 'key_id') });

    const { hmac, signature, ...unsigned } = manifest;
    const signedBytes = Buffer.from(canonicalJson(unsigned), 'utf8');
    expect(signedBytes.toString('utf8')).toBe(block('signed-bytes'));
    expect(EXPORT_FORMAT_DOC).toContain(`\`signed_bytes\` (no trailing newline; ${signedBytes.length} bytes)`);

    const k = createHmac('sha256', Buffer.from(secretKey, 'utf8')).update('trailmark:export-manifest:v1', 'ascii').digest();
    expect(k.toString('hex')).toBe(kv('signing', 'K'));
    expect(createHmac('sha256', k).update(signedBytes).digest('hex')).toBe(kv('signing', 'hmac'));
    expect(hmac).toBe(kv('signing', 'hmac'));

    const sig = sign(null, signedBytes, privateKeyFromSeed(seed)); // Ed25519 is deterministic
    expect(sig.toString('base64url')).toBe(kv('signing', 'signature'));
    expect(signature).toBe(kv('signing', 'signature'));
    expect(verify(null, signedBytes, publicKeyFromRaw(kv('keys', 'public_key'))!, sig)).toBe(true);
  });

  it('is exactly what the CSV writer produces for the stated entries', async () => {
    const manifest = JSON.parse(block('manifest')) as Record<string, unknown>;
    const entries = (JSON.parse(block('entries')) as DocEntry[]).map(
      (e): StoredEntry => ({
        id: `doc-${e.seq}`,
        seq: e.seq,
        ts: Date.parse(e.timestamp),
        occurred_at: null,
        action: e.action,
        category: e.action.split('.')[0]! as StoredEntry['category'],
        severity: e.severity,
        actor: e.actor,
        resource: e.resource,
        description: e.description,
        detailsJson: canonicalJson(e.details),
        source: { ip: null, user_agent: null, token_id: null },
        request_id: null,
        prev_hash: '',
        hash: '',
      }),
    );
    const input: ManifestInput = {
      tenant: manifest.tenant as string,
      exported_at: Date.parse(manifest.exported_at as string),
      exported_by: manifest.exported_by as ManifestInput['exported_by'],
      filters: manifest.filters as ManifestInput['filters'],
      log_head: manifest.log_head as ManifestInput['log_head'],
    };
    const privateKey = privateKeyFromSeed(seed);
    const csv = new CsvExport(
      (async function* () {
        yield* entries;
      })(),
      { manifest: input, secretKey, signer: { keyId: keyIdFor(rawPublicKey(privateKey)), privateKey } },
    );
    const chunks: Buffer[] = [];
    for await (const c of csv) chunks.push(c);
    expect(Buffer.concat(chunks).toString('utf8')).toBe(fileBytes.toString('utf8'));
  });

  it('verifies with trailmark verify, keys and all', async () => {
    const v = await verifyExportStream([fileBytes], { secretKey, publicKey: kv('keys', 'public_key') });
    expect(v.errors).toEqual([]);
    expect(v).toMatchObject({ ok: true, row_count: 3, first_seq: 101, last_seq: 104, final_hash: kv('chain', 'h_3') });
  });
});

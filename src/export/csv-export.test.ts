import { createHash, createHmac, createPublicKey, verify } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CsvExport } from './csv-export.js';
import { CsvRowEncoder } from './csv-row.js';
import { CSV_HEADER, EXPORT_GENESIS_HEX } from './export-format.js';
import { buildManifestInput, buildStoredEntry, exportToBuffer, fromArray, TEST_SECRET_KEY, testSigner } from './testing/export-fixtures.js';
import { verifyExportStream } from './verify-export.js';

const KAT_ENTRIES = [
  buildStoredEntry(41),
  buildStoredEntry(42, { severity: 'warning', description: '=cmd|"/c calc"!A1, then more', resource: { type: 'secret', id: '-rf', name: null }, actor: { type: 'system', id: null, name: null } }),
];

/** Splits a CSV export into record strings the simple way (fine for these small, known inputs). */
function records(bytes: Buffer): string[] {
  const out: string[] = [];
  let current = '';
  for (const part of bytes.toString('utf8').split('\r\n')) {
    current = current === '' ? part : `${current}\r\n${part}`;
    if ((current.match(/"/g)?.length ?? 0) % 2 === 0) {
      out.push(current);
      current = '';
    }
  }
  return out;
}

/** An independent canonical JSON for ASCII keys (enough for manifests): sorted keys, no spaces. */
function sortedJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(sortedJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${sortedJson((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

describe('CsvExport', () => {
  it('uses the genesis the spec defines', () => {
    expect(EXPORT_GENESIS_HEX).toBe('9d3d8a2fcc5ddaa29203435c350115ca7acdbacbbae31bfa95bae6be50d297a8');
    expect(EXPORT_GENESIS_HEX).toBe(createHash('sha256').update('trailmark:audit-export:v1').digest('hex'));
  });

  it('writes known bytes, hashes, HMAC and signature (known-answer test)', async () => {
    const { bytes, result } = await exportToBuffer(KAT_ENTRIES);
    const recs = records(bytes);
    expect(bytes.toString('utf8').endsWith('\r\n')).toBe(true);
    expect(recs).toHaveLength(5); // header, 2 rows, manifest, '' after the final CRLF
    expect(recs[0]).toBe(CSV_HEADER);
    expect(recs[2]).toBe(
      '42,2026-11-24T12:00:42.000Z,rotation.started,warning,system,,,secret,\'-rf,,"\'=cmd|""/c calc""!A1, then more",' +
        '"{""app_name"":""billing-api"",""initiated_by"":""alice"",""secret_name"":""db-password""}",' +
        '745def3d2b065697ce35b68c1205f32a0d304fe6e7e5720ee0b4e829a867ed2a',
    );
    // Recompute the chain independently from the file's own bytes.
    let h: Buffer = Buffer.from(EXPORT_GENESIS_HEX, 'hex');
    for (const rec of recs.slice(1, 3)) {
      h = createHash('sha256').update(h).update(Buffer.from(rec.slice(0, -65), 'utf8')).digest();
      expect(rec.slice(-65)).toBe(`,${h.toString('hex')}`);
    }
    expect(result).toMatchObject({ rowCount: 2, firstSeq: 41, lastSeq: 42, finalHash: h.toString('hex'), byteCount: bytes.length });
    expect(result.manifest.hmac).toBe('9eccd7102cd5d0acbdd65f89329144c1286063977f9beaf5ed7b8f9f1cfe93cc');
    expect(result.manifest.signature).toBe('SkCED-x44VCzPMfLwo5MdRogHRia-5Kg2qYCLLiNRHZVgkrHUxwPzZDwPY4q_w_cUdUaPZoFiDGX-j5MpKQwCg');

    const manifestText = recs[3]!;
    expect(manifestText.startsWith('"#manifest:{')).toBe(true);
    const manifest = JSON.parse(manifestText.slice(1, -1).replaceAll('""', '"').slice('#manifest:'.length)) as Record<string, unknown>;
    expect(manifest).toEqual(JSON.parse(JSON.stringify(result.manifest)));
    const { hmac, signature, ...rest } = manifest;
    const signed = Buffer.from(sortedJson(rest), 'utf8');
    const k = createHmac('sha256', TEST_SECRET_KEY).update('trailmark:export-manifest:v1').digest();
    expect(createHmac('sha256', k).update(signed).digest('hex')).toBe(hmac);
    const pub = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: testSigner().publicKey }, format: 'jwk' });
    expect(verify(null, signed, pub, Buffer.from(String(signature), 'base64url'))).toBe(true);
  });

  it('yields the same bytes however it is chunked, in chunks near the size asked for', async () => {
    const entries = Array.from({ length: 500 }, (_, i) => buildStoredEntry(i + 1));
    const whole = await exportToBuffer(entries);
    const csv = new CsvExport(fromArray(entries), { manifest: buildManifestInput(), secretKey: TEST_SECRET_KEY, signer: testSigner(), chunkChars: 4096 });
    const chunks: Buffer[] = [];
    for await (const c of csv) chunks.push(c);
    expect(chunks.length).toBeGreaterThan(20);
    expect(chunks.slice(0, -1).every((c) => c.length >= 4096 && c.length < 4096 + 1000)).toBe(true);
    expect(Buffer.concat(chunks).equals(whole.bytes)).toBe(true);
  });

  it('writes an empty export that verifies: header, manifest, final_hash = genesis, null seqs', async () => {
    const { bytes, result } = await exportToBuffer([]);
    expect(result).toMatchObject({ rowCount: 0, firstSeq: null, lastSeq: null, finalHash: EXPORT_GENESIS_HEX });
    expect(records(bytes)).toHaveLength(3);
    const v = await verifyExportStream([bytes], { secretKey: TEST_SECRET_KEY, publicKey: testSigner().publicKey });
    expect(v).toMatchObject({ ok: true, row_count: 0, first_seq: null, last_seq: null, final_hash: EXPORT_GENESIS_HEX, errors: [] });
  });

  it('refuses rows out of seq order or beyond the log head before signing anything', async () => {
    await expect(exportToBuffer([buildStoredEntry(2), buildStoredEntry(2)])).rejects.toThrow(/ascend/);
    await expect(exportToBuffer([buildStoredEntry(5)], buildManifestInput({ log_head: { seq: 4, hash: 'ab'.repeat(32) } }))).rejects.toThrow(/beyond the log head/);
  });

  it('refuses floats in the signed filters', () => {
    expect(() => new CsvExport(fromArray([]), { manifest: buildManifestInput({ filters: { limit: 1.5 } }), secretKey: 'k', signer: testSigner() })).toThrow(/safe integers/);
  });

  it('exposes its result only once finished, and reads once', async () => {
    const csv = new CsvExport(fromArray([buildStoredEntry(1)]), { manifest: buildManifestInput(), secretKey: 'k', signer: testSigner() });
    expect(() => csv.result).toThrow(/not finished/);
    for await (const _ of csv) void _;
    expect(csv.result.rowCount).toBe(1);
    await expect(async () => {
      for await (const _ of csv) void _;
    }).rejects.toThrow(/only once/);
  });

  it('hashes rows too long for the fast path exactly the same way', async () => {
    const long = buildStoredEntry(2, { description: `${'é'.repeat(20_000)}, "${'x'.repeat(40_000)}"` });
    const { bytes, result } = await exportToBuffer([buildStoredEntry(1), long, buildStoredEntry(3)]);
    let h: Buffer = Buffer.from(EXPORT_GENESIS_HEX, 'hex');
    for (const rec of records(bytes).slice(1, 4)) {
      h = createHash('sha256').update(h).update(Buffer.from(rec.slice(0, -65), 'utf8')).digest();
      expect(rec.slice(-64)).toBe(h.toString('hex'));
    }
    expect(result.finalHash).toBe(h.toString('hex'));
    expect((await verifyExportStream([bytes], { secretKey: TEST_SECRET_KEY })).ok).toBe(true);
  });

  it('formats timestamps exactly like toISOString', () => {
    const enc = new CsvRowEncoder();
    // Including years before 0000 and after 9999 (only odd or tampered data has them), whose
    // ISO form is the six-digit signed year.
    for (const t of [0, 999, 1000, 86_399_999, 86_400_000, 951_782_400_000, 1_767_225_599_999, 253_402_300_799_999, 253_402_300_800_000, -1, -62_198_755_200_001, -8_640_000_000_000_000]) expect(enc.timestamp(t)).toBe(new Date(t).toISOString());
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: Date.UTC(9999, 11, 31) }), { minLength: 1, maxLength: 20 }), (times) => {
        const enc = new CsvRowEncoder();
        for (const t of [...times, ...times.map((x) => x + 1), ...times]) expect(enc.timestamp(t)).toBe(new Date(t).toISOString());
      }),
    );
  });
});

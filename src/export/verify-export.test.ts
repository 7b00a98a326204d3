import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { StoredEntry } from '../audit/audit-entry.js';
import { canonicalJson } from '../chain/canonical-json.js';
import { csvField } from './csv-field.js';
import { MANIFEST_PREFIX } from './export-format.js';
import { buildStoredEntry, exportToBuffer, TEST_SECRET_KEY, testSigner } from './testing/export-fixtures.js';
import type { VerifyOptions } from './verify-export.js';
import { verifyExportStream } from './verify-export.js';

const BOTH_KEYS: VerifyOptions = { secretKey: TEST_SECRET_KEY, publicKey: testSigner().publicKey };
const verify = (bytes: Buffer | string, options: VerifyOptions = BOTH_KEYS) => verifyExportStream([typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes], options);

/** Records of an export as strings, each without its CRLF (independent of the code under test). */
function splitRecords(bytes: Buffer): string[] {
  const out: string[] = [];
  let current: string | null = null;
  const text = bytes.toString('utf8');
  for (const part of text.slice(0, -2).split('\r\n')) {
    current = current === null ? part : `${current}\r\n${part}`;
    if ((current.match(/"/g)?.length ?? 0) % 2 === 0) {
      out.push(current);
      current = null;
    }
  }
  return out;
}
const join = (records: string[]): Buffer => Buffer.from(records.map((r) => `${r}\r\n`).join(''), 'utf8');

const tricky = fc.string({ unit: fc.constantFrom('a', 'Z', '0', ' ', ',', '"', '\r', '\n', '=', '+', '-', '@', '\t', "'", 'é', '😀', '日'), maxLength: 8 });
const entriesArb = fc
  .array(fc.record({ description: tricky, name: fc.option(tricky), id: tricky, detail: tricky, gap: fc.integer({ min: 1, max: 3 }) }), { maxLength: 6 })
  .map((rows) => {
    let seq = 0;
    return rows.map((r): StoredEntry => {
      seq += r.gap;
      return buildStoredEntry(seq, { description: r.description, resource: { type: 'secret', id: r.id, name: r.name }, detailsJson: canonicalJson({ note: r.detail }) });
    });
  });

describe('verifyExport (CSV)', () => {
  it('accepts what the writer wrote, with tricky field contents', async () => {
    await fc.assert(
      fc.asyncProperty(entriesArb, async (entries) => {
        const { bytes, result } = await exportToBuffer(entries);
        const v = await verify(bytes);
        expect(v.errors).toEqual([]);
        expect(v).toMatchObject({ ok: true, row_count: entries.length, first_seq: result.firstSeq, last_seq: result.lastSeq, final_hash: result.finalHash });
        expect(v.checks).toEqual({ records: 'verified', hmac: 'verified', signature: 'verified' });
      }),
      { numRuns: 60 },
    );
  });

  it('refuses any single-byte change', async () => {
    await fc.assert(
      fc.asyncProperty(entriesArb, fc.nat(), fc.integer({ min: 1, max: 255 }), async (entries, at, delta) => {
        const { bytes } = await exportToBuffer(entries);
        const bad = Buffer.from(bytes);
        const i = at % bad.length;
        bad[i] = (bad[i]! + delta) % 256;
        expect((await verify(bad)).ok).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses a deleted, swapped or duplicated row', async () => {
    const rowsArb = entriesArb.filter((e) => e.length >= 2);
    await fc.assert(
      fc.asyncProperty(rowsArb, fc.nat(), fc.nat(), fc.constantFrom('delete', 'swap', 'duplicate'), async (entries, a, b, op) => {
        const recs = splitRecords((await exportToBuffer(entries)).bytes);
        const rows = recs.slice(1, -1);
        const i = a % rows.length;
        let j = b % rows.length;
        if (op === 'delete') rows.splice(i, 1);
        if (op === 'swap') {
          if (j === i) j = (i + 1) % rows.length;
          [rows[i], rows[j]] = [rows[j]!, rows[i]!];
        }
        if (op === 'duplicate') rows.splice(j + 1, 0, rows[i]!);
        const v = await verify(join([recs[0]!, ...rows, recs.at(-1)!]));
        expect(v.ok).toBe(false);
        expect(v.checks.records).toBe('failed');
      }),
      { numRuns: 150 },
    );
  });

  it('refuses any truncation', async () => {
    await fc.assert(
      fc.asyncProperty(entriesArb, fc.nat(), async (entries, at) => {
        const { bytes } = await exportToBuffer(entries);
        expect((await verify(bytes.subarray(0, at % bytes.length), {})).ok).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  it('refuses any manifest edit, even a well-formed one', async () => {
    const edits: Array<(m: Record<string, unknown>) => void> = [
      (m) => (m.row_count = Number(m.row_count) + 1),
      (m) => (m.first_seq = m.first_seq === null ? 1 : Number(m.first_seq) + 1),
      (m) => (m.last_seq = m.last_seq === null ? 1 : null),
      (m) => (m.final_hash = 'ab'.repeat(32)),
      (m) => (m.tenant = `${String(m.tenant)}x`),
      (m) => (m.filters = {}),
      (m) => (m.exported_at = '2020-01-01T00:00:00.000Z'),
      (m) => (m.log_head = { hash: 'cd'.repeat(32), seq: 1 }),
      (m) => (m.key_id = '0000000000000000'),
      (m) => (m.extra = 'added'),
      (m) => delete m.exported_by,
      (m) => (m.hmac = 'ab'.repeat(32)),
      (m) => (m.signature = testSigner(Buffer.alloc(32, 9)).publicKey),
    ];
    await fc.assert(
      fc.asyncProperty(entriesArb, fc.nat(edits.length - 1), async (entries, which) => {
        const recs = splitRecords((await exportToBuffer(entries)).bytes);
        const last = recs.at(-1)!;
        const manifest = JSON.parse(last.slice(1, -1).replaceAll('""', '"').slice(MANIFEST_PREFIX.length)) as Record<string, unknown>;
        edits[which]!(manifest);
        const v = await verify(join([...recs.slice(0, -1), csvField(MANIFEST_PREFIX + canonicalJson(manifest))]));
        expect(v.ok).toBe(false);
      }),
      { numRuns: 150 },
    );
  });
});

describe('verifyExport (CSV) reports', () => {
  const sample = async (): Promise<{ bytes: Buffer; recs: string[] }> => {
    const { bytes } = await exportToBuffer([1, 2, 3, 4].map((s) => buildStoredEntry(s)));
    return { bytes, recs: splitRecords(bytes) };
  };

  it('names the record and seq of a changed row, and only that one', async () => {
    const { recs } = await sample();
    recs[3] = recs[3]!.replace('resource 3', 'resource 9');
    const v = await verify(join(recs));
    expect(v.errors).toEqual([{ record: 4, seq: 3, reason: expect.stringMatching(/row_hash does not match/) as unknown }]);
  });

  it('reports a wrong header', async () => {
    const { recs } = await sample();
    recs[0] = recs[0]!.replace('actor_name', 'actor');
    expect((await verify(join(recs))).errors[0]).toMatchObject({ record: 1, reason: expect.stringMatching(/^the header is not/) as unknown });
  });

  it('reports a byte-order mark', async () => {
    const { bytes } = await sample();
    expect((await verify(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes]))).errors[0]?.reason).toMatch(/byte-order mark/);
  });

  it('reports LF line endings', async () => {
    const { bytes } = await sample();
    const v = await verify(bytes.toString('utf8').replaceAll('\r\n', '\n'));
    expect(v.ok).toBe(false);
    expect(v.errors[0]?.reason).toMatch(/LF, not CRLF/);
  });

  it('reports anything after the manifest', async () => {
    const { bytes, recs } = await sample();
    for (const tail of ['\r\n', 'x\r\n', `${recs.at(-1)!}\r\n`, 'x']) {
      const v = await verify(Buffer.concat([bytes, Buffer.from(tail)]));
      expect(v.ok).toBe(false);
      expect(v.errors.some((e) => /follows the manifest/.test(e.reason))).toBe(true);
    }
  });

  it('reports a missing manifest and a missing final CRLF', async () => {
    const { bytes, recs } = await sample();
    expect((await verify(join(recs.slice(0, -1)))).errors.map((e) => e.reason)).toEqual(['there is no manifest record']);
    expect((await verify(bytes.subarray(0, -2))).errors.map((e) => e.reason)).toEqual(['the last record has no CRLF line ending']);
    expect((await verify(Buffer.alloc(0))).errors.map((e) => e.reason)).toEqual(['the file is empty', 'there is no manifest record']);
  });

  it('reports counts that do not match the rows', async () => {
    const { recs } = await sample();
    const v = await verify(join([...recs.slice(0, 2), ...recs.slice(3)]), {});
    expect(v.errors.map((e) => e.reason)).toEqual([
      expect.stringMatching(/row_hash does not match/),
      'the manifest says row_count 4, the file has 3 rows',
    ]);
  });

  it('checks the HMAC only with a secret, and the signature only with a key', async () => {
    const { bytes } = await sample();
    expect((await verify(bytes, {})).checks).toEqual({ records: 'verified', hmac: 'not_checked', signature: 'not_checked' });
    const wrongSecret = await verify(bytes, { secretKey: 'another-secret-key-of-32-characters!!' });
    expect(wrongSecret).toMatchObject({ ok: false, checks: { hmac: 'failed' } });
    expect(wrongSecret.errors[0]?.reason).toMatch(/HMAC does not match/);
    const otherKey = testSigner(Buffer.alloc(32, 9)).publicKey;
    const wrongKey = await verify(bytes, { publicKey: otherKey });
    expect(wrongKey).toMatchObject({ ok: false, checks: { signature: 'failed' } });
    expect(wrongKey.errors[0]?.reason).toMatch(/signed by key .* but the public key given is/);
  });

  it('finds the public key by the manifest key_id through a resolver', async () => {
    const { bytes, recs } = await sample();
    const keyId = testSigner().keyId;
    expect(recs.at(-1)).toContain(keyId);
    const asked: string[] = [];
    const ok = await verify(bytes, { resolvePublicKey: (id) => (asked.push(id), Promise.resolve(testSigner().publicKey)) });
    expect(ok).toMatchObject({ ok: true, checks: { signature: 'verified' } });
    expect(asked).toEqual([keyId]);
    const unknown = await verify(bytes, { resolvePublicKey: () => Promise.resolve(null) });
    expect(unknown.errors[0]?.reason).toBe(`no published public key has key_id ${keyId}`);
  });

  it('refuses a signature re-spelt with different unused base64url bits', async () => {
    const { recs } = await sample();
    const last = recs.at(-1)!;
    const sig = /""signature"":""([A-Za-z0-9_-]{86})""/.exec(last)![1]!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const lastIndex = alphabet.indexOf(sig.at(-1)!);
    const respelt = sig.slice(0, -1) + alphabet[lastIndex ^ 1]!; // flips a bit the decoder ignores
    expect(Buffer.from(respelt, 'base64url').equals(Buffer.from(sig, 'base64url'))).toBe(true);
    const v = await verify(join([...recs.slice(0, -1), last.replace(sig, respelt)]));
    expect(v).toMatchObject({ ok: false, checks: { hmac: 'verified', signature: 'failed' } });
  });

  it('refuses upper-case hex in a row_hash', async () => {
    const { recs } = await sample();
    recs[1] = recs[1]!.slice(0, -64) + recs[1]!.slice(-64).toUpperCase();
    expect((await verify(join(recs))).errors[0]).toMatchObject({ record: 2, reason: 'row_hash is not 64 lowercase hex digits' });
  });

  it('streams: the same verdict whatever the chunk boundaries', async () => {
    const { bytes } = await sample();
    for (const size of [1, 2, 3, 7, 64]) {
      const chunks: Buffer[] = [];
      for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
      expect(await verifyExportStream(chunks, BOTH_KEYS)).toMatchObject({ ok: true, row_count: 4 });
    }
  });
});

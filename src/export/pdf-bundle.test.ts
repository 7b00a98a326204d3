import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { inflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredEntry } from '../audit/audit-entry.js';
import { openPdfAttachment } from './pdf-attachment-reader.js';
import type { EvidenceBundle } from './pdf-bundle.js';
import { prepareEvidenceBundle } from './pdf-bundle.js';
import { buildManifestInput, buildStoredEntry, exportToBuffer, fromArray, TEST_SECRET_KEY, testSigner } from './testing/export-fixtures.js';
import { requireTool, run } from './testing/external-tools.js';
import { verifyExport } from './verify-export.js';

const KEYS = { secretKey: TEST_SECRET_KEY, publicKey: testSigner().publicKey };
const ENTRIES: StoredEntry[] = Array.from({ length: 300 }, (_, i) =>
  buildStoredEntry(i + 1, i === 7 ? { description: '=1+1, "quoted"\r\nZoë 😀', resource: { type: 'secret', id: '@x', name: null } } : {}),
);
for (const tool of ['qpdf', 'pdfdetach', 'pdftotext']) requireTool(tool);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'trailmark-pdf-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function bundle(entries: StoredEntry[], name: string): Promise<{ path: string; prepared: EvidenceBundle }> {
  const prepared = await prepareEvidenceBundle(fromArray(entries), { manifest: buildManifestInput(), secretKey: TEST_SECRET_KEY, signer: testSigner(), trailmarkVersion: '9.9.9-test', tmpDir: dir });
  const path = join(dir, name);
  await pipeline(prepared.render(), createWriteStream(path));
  return { path, prepared };
}

async function readAll(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of stream) parts.push(p);
  return Buffer.concat(parts);
}

describe('PDF evidence bundle', () => {
  let csv: Buffer;
  let pdfPath: string;
  let prepared: EvidenceBundle;

  beforeAll(async () => {
    csv = (await exportToBuffer(ENTRIES)).bytes;
    ({ path: pdfPath, prepared } = await bundle(ENTRIES, 'bundle.pdf'));
  });

  it('embeds exactly the CSV export of the same request, and states its SHA-256', async () => {
    const embedded = await readAll(await openPdfAttachment(pdfPath, 'audit-export.csv'));
    expect(embedded.equals(csv)).toBe(true);
    expect(prepared.csvSha256).toBe(createHash('sha256').update(csv).digest('hex'));
    expect(prepared.csv).toMatchObject({ rowCount: 300, firstSeq: 1, lastSeq: 300, byteCount: csv.length });
  });

  it('verifies by itself (the verifier extracts the CSV in JS)', async () => {
    const v = await verifyExport(pdfPath, KEYS);
    expect(v.errors).toEqual([]);
    expect(v).toMatchObject({ ok: true, kind: 'pdf', row_count: 300, csv_sha256: prepared.csvSha256, checks: { records: 'verified', hmac: 'verified', signature: 'verified' } });
  });

  it('is marked PDF/A-3b with the CSV as an associated Source file and an sRGB output intent', async () => {
    const text = (await readFile(pdfPath)).toString('latin1');
    expect(text.startsWith('%PDF-1.7')).toBe(true);
    expect(text).toMatch(/<pdfaid:part>3<\/pdfaid:part>/);
    expect(text).toMatch(/<pdfaid:conformance>B<\/pdfaid:conformance>/);
    expect(text).toMatch(/\/Type \/OutputIntent[\s\S]*?\/S \/GTS_PDFA1/);
    expect(text).toMatch(/\/AFRelationship \/Source/);
    expect(text).toMatch(/\/AF \[\d+ 0 R\]/);
    expect(text).toMatch(/\/Subtype \/text#2Fcsv/);
    expect(text).toMatch(/\/F \(audit-export\.csv\)/);
    expect(text).not.toMatch(/\/BaseFont \/(Helvetica|Times|Courier)/); // no un-embedded standard-14 fonts
  });

  it('shows the cover and assertion facts on its pages', async () => {
    const r = run('pdftotext', ['-layout', pdfPath, '-']);
    expect(r.status).toBe(0);
    const pages = r.stdout.split('\f');
    const m = prepared.csv.manifest;
    const flat = (s: string): string => s.replace(/\s+/g, '');
    for (const fact of ['acme', m.exported_at, 'admin', '9.9.9-test', '300', prepared.csvSha256, m.final_hash, m.key_id, m.signature, 'rotation.*', 'How to verify']) {
      expect(flat(pages[0]!)).toContain(flat(fact));
    }
    expect(pages[1]).toMatch(/Customer Management Assertion/);
    expect(flat(pages[1]!)).toContain(flat('accurate and complete for the stated filters'));
    for (const line of ['Name:', 'Title:', 'Signature:', 'Date:']) expect(pages[1]).toContain(line);
  });

  it('passes qpdf --check', () => {
    const r = run('qpdf', ['--check', pdfPath]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/No syntax or stream encoding errors found/);
  });

  it('gives pdfdetach -saveall a byte-identical CSV that verifies by itself', async () => {
    const out = join(dir, 'detached');
    await rm(out, { recursive: true, force: true });
    await (await import('node:fs/promises')).mkdir(out);
    const r = run('pdfdetach', ['-saveall', '-o', out, pdfPath]);
    expect(r.status).toBe(0);
    expect(await readdir(out)).toEqual(['audit-export.csv']);
    const detached = await readFile(join(out, 'audit-export.csv'));
    expect(detached.equals(csv)).toBe(true);
    expect(await verifyExport(join(out, 'audit-export.csv'), KEYS)).toMatchObject({ ok: true, kind: 'csv', row_count: 300 });
  });

  it('still finds the CSV after qpdf rewrites the file, and says why it cannot with object streams', async () => {
    const rewritten = join(dir, 'rewritten.pdf');
    expect(run('qpdf', ['--object-streams=disable', '--stream-data=uncompress', pdfPath, rewritten]).status).toBe(0);
    expect(await verifyExport(rewritten, KEYS)).toMatchObject({ ok: true, row_count: 300 });
    const packed = join(dir, 'packed.pdf');
    expect(run('qpdf', ['--object-streams=generate', pdfPath, packed]).status).toBe(0);
    const v = await verifyExport(packed, KEYS);
    expect(v.ok).toBe(false);
    expect(v.errors[0]?.reason).toMatch(/cross-reference in a stream.*pdfdetach/);
  });

  it('is the same bytes every time for the same entries (the fonts, parsed once per process, are reused)', async () => {
    const first = await readFile(pdfPath);
    // Another bundle in between draws other glyphs (its tenant's name) from the same parsed fonts.
    const other = await prepareEvidenceBundle(fromArray(ENTRIES.slice(0, 20)), { manifest: buildManifestInput({ tenant: 'Ünïcödé Gesellschaft ¿ ß ∑ Ωμέγα Жук' }), secretKey: TEST_SECRET_KEY, signer: testSigner(), trailmarkVersion: '9.9.9-test', tmpDir: dir });
    await pipeline(other.render(), createWriteStream(join(dir, 'other.pdf')));
    const again = await readFile((await bundle(ENTRIES, 'again.pdf')).path);
    expect(again.equals(first)).toBe(true);
  });

  it('fails verification when the embedded CSV is changed', async () => {
    const pdf = await readFile(pdfPath);
    const text = pdf.toString('latin1');
    const start = text.indexOf('stream', text.indexOf('/Type /EmbeddedFile')) + 'stream\n'.length;
    const length = Number(/\/Type \/EmbeddedFile[\s\S]*?\/Length (\d+)/.exec(text)![1]);
    const original = inflateSync(pdf.subarray(start, start + length));
    const changed = Buffer.from(original.toString('utf8').replace('resource 5,', 'resource 6,'), 'utf8');
    const { deflateSync } = await import('node:zlib');
    const recompressed = deflateSync(changed);
    // Same-length swap keeps the xref valid, so the failure can only come from the CSV itself.
    const padded = Buffer.concat([recompressed, Buffer.alloc(length - recompressed.length)]);
    expect(recompressed.length).toBeLessThanOrEqual(length);
    const tampered = Buffer.concat([pdf.subarray(0, start), padded, pdf.subarray(start + length)]);
    const path = join(dir, 'tampered.pdf');
    await writeFile(path, tampered);
    const v = await verifyExport(path, KEYS);
    expect(v.ok).toBe(false);
    expect(v.errors[0]).toMatchObject({ record: 6, seq: 5 });
  });

  it('refuses a PDF with no attachment, and a file that is cut short', async () => {
    const pdf = await readFile(pdfPath);
    const cut = join(dir, 'cut.pdf');
    await writeFile(cut, pdf.subarray(0, Math.floor(pdf.length / 2)));
    const v = await verifyExport(cut, KEYS);
    expect(v).toMatchObject({ ok: false, kind: 'pdf' });
    expect(v.errors[0]?.reason).toMatch(/cannot read the embedded audit-export.csv/);
  });

  it('bundles an empty export that verifies', async () => {
    const { path } = await bundle([], 'empty.pdf');
    expect(await verifyExport(path, KEYS)).toMatchObject({ ok: true, row_count: 0, first_seq: null });
    expect(run('qpdf', ['--check', path]).status).toBe(0);
  });

  it('removes its temp file after rendering, and on discard', async () => {
    const before = (await readdir(dir)).filter((f) => f.startsWith('trailmark-bundle-'));
    const { prepared: p } = await bundle([buildStoredEntry(1)], 'one.pdf');
    await new Promise((r) => setTimeout(r, 50));
    expect((await readdir(dir)).filter((f) => f.startsWith('trailmark-bundle-'))).toEqual(before);
    expect(() => p.render()).toThrow(/once/);
    const unused = await prepareEvidenceBundle(fromArray([buildStoredEntry(1)]), { manifest: buildManifestInput(), secretKey: 'k', signer: testSigner(), trailmarkVersion: 'x', tmpDir: dir });
    expect((await readdir(dir)).filter((f) => f.startsWith('trailmark-bundle-'))).toHaveLength(before.length + 1);
    await unused.discard();
    expect((await readdir(dir)).filter((f) => f.startsWith('trailmark-bundle-'))).toEqual(before);
  });

  it('honours back-pressure while embedding, and cleans up when the reader goes away', async () => {
    const { randomBytes } = await import('node:crypto');
    const big = Array.from({ length: 8000 }, (_, i) => buildStoredEntry(i + 1, { description: randomBytes(150).toString('hex') }));
    const p = await prepareEvidenceBundle(fromArray(big), { manifest: buildManifestInput(), secretKey: 'k', signer: testSigner(), trailmarkVersion: 'x', tmpDir: dir });
    const doc = p.render();
    // A slow reader: each read returns all that is buffered, so the largest read is the most
    // the document ever held (without back-pressure the whole attachment piles up).
    let maxBuffered = 0;
    let total = 0;
    for await (const chunk of doc) {
      total += (chunk as Buffer).length;
      maxBuffered = Math.max(maxBuffered, (chunk as Buffer).length);
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(total).toBeGreaterThan(1_500_000);
    expect(maxBuffered).toBeLessThan(400 * 1024);

    const again = await prepareEvidenceBundle(fromArray(big), { manifest: buildManifestInput(), secretKey: 'k', signer: testSigner(), trailmarkVersion: 'x', tmpDir: dir });
    const stream = again.render();
    for await (const _ of stream) break; // the client went away after the first chunk
    await new Promise((r) => setTimeout(r, 100));
    expect((await readdir(dir)).filter((f) => f.startsWith('trailmark-bundle-'))).toEqual([]);
  });

  it('fails before any PDF byte when the entries fail, leaving no temp file', async () => {
    async function* broken(): AsyncGenerator<StoredEntry> {
      yield buildStoredEntry(1);
      throw new Error('database went away');
    }
    const before = await readdir(dir);
    await expect(prepareEvidenceBundle(broken(), { manifest: buildManifestInput(), secretKey: 'k', signer: testSigner(), trailmarkVersion: 'x', tmpDir: dir })).rejects.toThrow(/database went away/);
    expect(await readdir(dir)).toEqual(before);
  });
});

import { canonicalJson } from '../chain/canonical-json.js';
import type { ExportManifest } from './export-manifest.js';

/** Everything the bundle's pages state about its embedded CSV. */
export interface BundleFacts {
  readonly manifest: ExportManifest;
  readonly csvSha256: string;
  readonly csvBytes: number;
  readonly csvName: string;
  readonly trailmarkVersion: string;
}

const MARGIN = 56;
const LABEL_WIDTH = 130;

const actorText = (m: ExportManifest): string => {
  const a = m.exported_by;
  return `${a.name ?? a.id ?? '(unknown)'} (${a.type}${a.id && a.name ? `, id ${a.id}` : ''})`;
};
const seqRange = (m: ExportManifest): string => (m.first_seq === null ? 'none (no rows matched)' : `${m.first_seq} to ${m.last_seq}`);
const filtersText = (m: ExportManifest): string => (Object.keys(m.filters).length === 0 ? 'none (the whole log)' : canonicalJson(m.filters));

/**
 * Page 1: the facts an auditor checks the attachment against (EXPORT-FORMAT.md, PDF
 * bundle), then how to verify. Fonts `regular`, `bold` and `mono` must be registered.
 */
export function drawCoverPage(doc: PDFKit.PDFDocument, f: BundleFacts): void {
  const m = f.manifest;
  doc.addPage({ size: 'A4', margin: MARGIN });
  doc.font('bold').fontSize(18).text('Audit log evidence bundle');
  doc.font('regular').fontSize(10).fillColor('#444444').text(`Trailmark tamper-evident audit trail, export format ${m.format}`).fillColor('black');
  doc.moveDown(1.2);
  const rows: Array<[string, string, 'regular' | 'mono']> = [
    ['Tenant', m.tenant, 'regular'],
    ['Exported at (UTC)', m.exported_at, 'regular'],
    ['Exported by', actorText(m), 'regular'],
    ['Trailmark version', f.trailmarkVersion, 'regular'],
    ['Rows', String(m.row_count), 'regular'],
    ['Seq range', seqRange(m), 'regular'],
    ['Filters', filtersText(m), 'mono'],
    ['Embedded file', `${f.csvName} (text/csv, ${f.csvBytes} bytes)`, 'regular'],
    ['CSV SHA-256', f.csvSha256, 'mono'],
    ['Final hash', m.final_hash, 'mono'],
    ['Log head', `seq ${m.log_head.seq}, hash ${m.log_head.hash}`, 'mono'],
    ['Signing key id', m.key_id, 'mono'],
    ['Signature (Ed25519)', m.signature, 'mono'],
    ['Manifest HMAC', m.hmac, 'mono'],
  ];
  for (const [label, value, font] of rows) field(doc, label, value, font);

  doc.moveDown(1);
  doc.font('bold').fontSize(12).text('How to verify', MARGIN);
  doc.moveDown(0.3);
  const steps = [
    `The attached file ${f.csvName} is the evidence; these pages only describe it.`,
    `1. Extract it (for example: pdfdetach -saveall bundle.pdf) and check that its SHA-256 is the value above.`,
    `2. Run: trailmark verify bundle.pdf --keys-url https://<your Trailmark>/api/audit/keys — or follow the published ` +
      `export format (docs/export-format.md): recompute every row_hash from GENESIS = SHA-256("trailmark:audit-export:v1"), ` +
      `check the manifest's row_count, first_seq, last_seq and final_hash against the rows, and check the Ed25519 ` +
      `signature over the manifest with the public key GET /api/audit/keys publishes for key id ${m.key_id}.`,
    `3. The manifest HMAC can be checked only by the deployment's operator, with its SECRET_KEY.`,
    `A changed, removed, added or reordered row, or any change to the manifest, makes verification fail.`,
  ];
  doc.font('regular').fontSize(9.5);
  for (const step of steps) doc.text(step, { lineGap: 2, paragraphGap: 4 });
}

/** The last page: the customer's management assertion, with lines to sign. */
export function drawAssertionPage(doc: PDFKit.PDFDocument, f: BundleFacts): void {
  const m = f.manifest;
  doc.addPage({ size: 'A4', margin: MARGIN });
  doc.font('bold').fontSize(18).text('Customer Management Assertion');
  doc.moveDown(1);
  doc.font('regular').fontSize(10.5).text(
    `Management of ${m.tenant} asserts that the audit log export attached to this document ` +
      `(${f.csvName}, SHA-256 ${f.csvSha256}), containing ${m.row_count} entries ` +
      `(seq ${seqRange(m)}) exported at ${m.exported_at} UTC by ${actorText(m)}, ` +
      `is accurate and complete for the stated filters, and that it has not been altered since it was exported.`,
    { lineGap: 3 },
  );
  doc.moveDown(0.8);
  field(doc, 'Stated filters', filtersText(m), 'mono');
  field(doc, 'Final hash', m.final_hash, 'mono');
  doc.moveDown(2.5);
  for (const label of ['Name', 'Title', 'Signature', 'Date']) {
    const y = doc.y + 18;
    doc.font('regular').fontSize(10.5).text(`${label}:`, MARGIN, y);
    doc.moveTo(MARGIN + 80, y + 11).lineTo(doc.page.width - MARGIN, y + 11).lineWidth(0.7).stroke();
    doc.x = MARGIN;
    doc.moveDown(1.6);
  }
}

/** A label and its value side by side; long values (hashes, signatures) wrap in their column. */
function field(doc: PDFKit.PDFDocument, label: string, value: string, font: 'regular' | 'mono'): void {
  const y = doc.y;
  const width = doc.page.width - 2 * MARGIN - LABEL_WIDTH;
  doc.font('bold').fontSize(9.5).text(label, MARGIN, y, { width: LABEL_WIDTH - 8 });
  const labelBottom = doc.y;
  doc.font(font).fontSize(font === 'mono' ? 8.5 : 9.5).text(value, MARGIN + LABEL_WIDTH, y, { width, lineGap: 1 });
  doc.x = MARGIN;
  doc.y = Math.max(doc.y, labelBottom) + 4;
}

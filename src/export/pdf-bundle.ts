import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import PDFDocument from 'pdfkit';
import type { StoredEntry } from '../audit/audit-entry.js';
import type { CsvExportOptions, CsvExportResult } from './csv-export.js';
import { CsvExport } from './csv-export.js';
import { CsvSpooler } from './csv-spooler.js';
import { BUNDLE_CSV_NAME } from './export-format.js';
import { embedDeflatedFile } from './pdf-embedded-file.js';
import { bundleFonts } from './pdf-fonts.js';
import type { BundleFacts } from './pdf-pages.js';
import { drawAssertionPage, drawCoverPage } from './pdf-pages.js';

export interface EvidenceBundleOptions extends CsvExportOptions {
  /** Shown on the cover page. */
  readonly trailmarkVersion: string;
  /** Where the CSV waits while the PDF is written (default: the OS temp folder). */
  readonly tmpDir?: string;
}

/**
 * A PDF evidence bundle whose CSV has been produced and is waiting on disk. Preparing it
 * first means a failing export (database error, bad input) fails before a single PDF byte is
 * sent, and the cover page can state the CSV's SHA-256 and row count.
 *
 * Invariants: the embedded file is byte-identical to the CSV export of the same entries and
 * options; the temp file is removed when `render()`'s stream ends, fails or is destroyed, or
 * by `discard()` when it is never rendered.
 */
export class EvidenceBundle {
  private used = false;

  constructor(
    /** Totals and manifest of the embedded CSV export. */
    readonly csv: CsvExportResult,
    /** SHA-256 of the embedded CSV, hex (also on the cover page). */
    readonly csvSha256: string,
    private readonly facts: BundleFacts,
    private readonly deflatedPath: string,
    private readonly attachment: { readonly md5Hex: string; readonly deflatedLength: number },
    private readonly tmpDir: string,
  ) {}

  /** The PDF as a stream (PDF/A-3b; cover page, assertion page, the CSV attached). Call once. */
  render(): Readable {
    if (this.used) throw new Error('an evidence bundle can be rendered once');
    this.used = true;
    const exportedAt = new Date(this.facts.manifest.exported_at);
    const doc = bundleDocument(exportedAt, this.facts.trailmarkVersion);
    const write = async (): Promise<void> => {
      drawCoverPage(doc, this.facts);
      drawAssertionPage(doc, this.facts);
      await embedDeflatedFile(doc, createReadStream(this.deflatedPath, { highWaterMark: 256 * 1024 }), {
        name: this.facts.csvName,
        mimeType: 'text/csv',
        description: `Trailmark audit log export (${this.facts.manifest.format}), the evidence this document describes`,
        relationship: 'Source',
        size: this.facts.csvBytes,
        md5Hex: this.attachment.md5Hex,
        modified: exportedAt,
        deflatedLength: this.attachment.deflatedLength,
      });
      doc.end();
    };
    write()
      .catch((err: unknown) => doc.destroy(err instanceof Error ? err : new Error(String(err))))
      .finally(() => void this.discard());
    return doc;
  }

  /** Removes the waiting CSV; safe to call more than once. */
  async discard(): Promise<void> {
    await rm(this.tmpDir, { recursive: true, force: true });
  }
}

/** A PDF/A-3b document with the bundle fonts registered. */
function bundleDocument(exportedAt: Date, trailmarkVersion: string): PDFKit.PDFDocument {
  const doc = new PDFDocument({
    subset: 'PDF/A-3b',
    pdfVersion: '1.7',
    autoFirstPage: false,
    lang: 'en',
    displayTitle: true,
    info: { Title: 'Trailmark audit evidence bundle', Creator: `Trailmark ${trailmarkVersion}`, Producer: 'Trailmark (PDFKit)', CreationDate: exportedAt },
  });
  for (const [name, font] of Object.entries(bundleFonts())) doc.registerFont(name, font as unknown as Buffer);
  return doc;
}

/**
 * Phase one of a PDF export: writes the CSV export of `entries` to a temp file (deflated at
 * level 1, ready to embed) while hashing it, in a worker thread (`CsvSpooler`), holding a few
 * chunks in memory at a time. Rows are mostly hashes and ids, which no level compresses much:
 * level 1 is within 2% of the default's size at half its CPU time.
 */
export async function prepareEvidenceBundle(entries: AsyncIterable<StoredEntry>, options: EvidenceBundleOptions): Promise<EvidenceBundle> {
  const csv = new CsvExport(entries, options);
  const dir = await mkdtemp(join(options.tmpDir ?? tmpdir(), 'trailmark-bundle-'));
  const deflatedPath = join(dir, `${BUNDLE_CSV_NAME}.deflate`);
  // Deflating and hashing happen in a worker thread while this one formats the rows.
  const spooler = new CsvSpooler(deflatedPath);
  try {
    for await (const chunk of csv) await spooler.write(chunk);
    const spooled = await spooler.end();
    const csvSha256 = spooled.sha256Hex;
    const facts: BundleFacts = { manifest: csv.result.manifest, csvSha256, csvBytes: spooled.size, csvName: BUNDLE_CSV_NAME, trailmarkVersion: options.trailmarkVersion };
    return new EvidenceBundle(csv.result, csvSha256, facts, deflatedPath, { md5Hex: spooled.md5Hex, deflatedLength: spooled.deflatedLength }, dir);
  } catch (err) {
    await spooler.abort();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

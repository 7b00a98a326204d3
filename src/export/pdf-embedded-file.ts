/** What the attachment's dictionaries say about the file. */
export interface EmbeddedFileMeta {
  readonly name: string;
  readonly mimeType: string;
  readonly description: string;
  /** PDF/A-3 `AFRelationship`: how the file relates to the document. */
  readonly relationship: 'Source' | 'Data' | 'Alternative' | 'Supplement' | 'Unspecified';
  /** Size of the decoded file in bytes. */
  readonly size: number;
  /** MD5 of the decoded file (the PDF `/CheckSum`), hex. */
  readonly md5Hex: string;
  readonly modified: Date;
  /** Exact byte length of `deflated`, known before the stream is written (its `/Length`). */
  readonly deflatedLength: number;
}

/**
 * The pdfkit 0.20.2 internals this module uses. pdfkit's own `doc.file()` needs the whole
 * file in memory and compresses it in one call; an export of millions of rows must instead
 * be copied from disk a chunk at a time, so this writes the stream object itself through the
 * same primitives `PDFReference.finalize()` uses. pdfkit is pinned exactly; the PDF tests
 * (qpdf --check, pdfdetach) fail if an upgrade changes these.
 */
interface PdfKitInternals {
  ref(data?: Record<string, unknown>): PdfKitRef;
  _write(data: Uint8Array | string): void;
  readonly _offset: number;
  _refEnd(ref: PdfKitRef): void;
  _read: (size: number) => void;
  addNamedEmbeddedFile(name: string, ref: PdfKitRef): void;
  readonly _root: { readonly data: { AF?: PdfKitRef[] } };
  readonly readableLength: number;
  readonly readableHighWaterMark: number;
  readonly destroyed: boolean;
  once(event: 'close', fn: () => void): unknown;
  off(event: 'close', fn: () => void): unknown;
}

interface PdfKitRef {
  readonly id: number;
  readonly gen: number;
  offset: number;
  end(): void;
}

/**
 * Writes `deflated` (zlib-compressed file bytes) into the document as an embedded file
 * associated with the document (`/AF`, PDF/A-3) and listed in `/Names /EmbeddedFiles`.
 * Honours the document stream's back-pressure, so memory stays flat whatever the size.
 * Nothing else may write to the document until the returned promise settles.
 */
export async function embedDeflatedFile(doc: PDFKit.PDFDocument, deflated: AsyncIterable<Buffer>, meta: EmbeddedFileMeta): Promise<void> {
  const d = doc as unknown as PdfKitInternals;
  const stream = d.ref();
  stream.offset = d._offset;
  d._write(`${stream.id} ${stream.gen} obj`);
  d._write(embeddedFileDict(meta));
  d._write('stream');
  let written = 0;
  for await (const chunk of deflated) {
    if (d.destroyed) throw new Error('the PDF stream was closed while the attachment was written');
    d._write(chunk);
    written += chunk.length;
    if (d.readableLength >= d.readableHighWaterMark) await nextRead(d);
  }
  if (written !== meta.deflatedLength) throw new Error(`the attachment changed while it was embedded (${written} bytes, expected ${meta.deflatedLength})`);
  d._write('\nendstream');
  d._write('endobj');
  d._refEnd(stream);

  const filespec = d.ref({
    Type: 'Filespec',
    AFRelationship: meta.relationship,
    F: new String(meta.name),
    UF: new String(meta.name),
    Desc: new String(meta.description),
    EF: { F: stream, UF: stream },
  });
  filespec.end();
  d.addNamedEmbeddedFile(meta.name, filespec);
  if (d._root.data.AF) d._root.data.AF.push(filespec);
  else d._root.data.AF = [filespec];
}

/** The stream dictionary, written by hand because pdfkit's serializer is internal. */
function embeddedFileDict(meta: EmbeddedFileMeta): string {
  const date = `(D:${meta.modified.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z)`;
  return [
    '<<',
    '/Type /EmbeddedFile',
    `/Subtype /${pdfName(meta.mimeType)}`,
    `/Params << /Size ${meta.size} /CheckSum <${meta.md5Hex}> /CreationDate ${date} /ModDate ${date} >>`,
    `/Length ${meta.deflatedLength}`,
    '/Filter /FlateDecode',
    '>>',
  ].join('\n');
}

/** A PDF name body: anything outside printable ASCII letters, digits and `.-_` as #XX. */
function pdfName(text: string): string {
  return text.replace(/[^A-Za-z0-9._-]/g, (c) => `#${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

/** Resolves when the consumer asks for more data; rejects if the document is closed first. */
function nextRead(d: PdfKitInternals): Promise<void> {
  return new Promise((resolve, reject) => {
    const idle = d._read;
    const settle = (err?: Error): void => {
      d._read = idle;
      d.off('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    const onClose = (): void => settle(new Error('the PDF stream was closed while the attachment was written'));
    d._read = () => settle();
    d.once('close', onClose);
  });
}

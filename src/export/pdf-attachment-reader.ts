import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { pipeline } from 'node:stream';
import type { Readable } from 'node:stream';
import { createInflate } from 'node:zlib';
import type { PdfDict, PdfValue } from './pdf-objects.js';
import { NeedMoreBytes, PdfName, PdfParser, PdfRef, PdfSyntaxError, pdfText } from './pdf-objects.js';

/** Where an embedded file's bytes sit in a PDF. */
export interface AttachmentLocation {
  /** Offset of the first byte of the (encoded) stream data. */
  readonly start: number;
  readonly length: number;
  readonly deflated: boolean;
}

const MAX_WINDOW = 64 * 1024 * 1024;

/**
 * Finds a file attachment by name in a PDF without loading the PDF: reads the classic
 * cross-reference table (following `/Prev` through incremental updates, newest first), then
 * the catalog's `/Names /EmbeddedFiles` tree or its `/AF` array. Files that keep their
 * cross-reference in compressed streams (PDF 1.5 object streams) are refused with a clear
 * message; pdfkit, which writes our bundles, never produces them.
 */
export async function locatePdfAttachment(path: string, name: string): Promise<AttachmentLocation> {
  const fh = await open(path, 'r');
  try {
    const pdf = new PdfFile(fh, (await fh.stat()).size);
    await pdf.loadXref();
    const filespec = await pdf.findFilespec(name);
    if (!filespec) throw new PdfSyntaxError(`the PDF has no embedded file named ${name}`);
    const ef = asDict(await pdf.resolve(filespec.get('EF')));
    const streamRef = ef?.get('F') ?? ef?.get('UF');
    if (!(streamRef instanceof PdfRef)) throw new PdfSyntaxError(`the attachment ${name} has no embedded file stream`);
    return await pdf.streamLocation(streamRef);
  } finally {
    await fh.close();
  }
}

/** The decoded bytes of a named attachment, streamed (flat memory whatever its size). */
export async function openPdfAttachment(path: string, name: string): Promise<Readable> {
  const loc = await locatePdfAttachment(path, name);
  const raw = createReadStream(path, { start: loc.start, end: loc.start + loc.length - 1, highWaterMark: 1024 * 1024 });
  if (!loc.deflated) return raw;
  return pipeline(raw, createInflate(), () => undefined);
}

const asDict = (v: PdfValue | undefined): PdfDict | null => (v instanceof Map ? v : null);

class PdfFile {
  private readonly offsets = new Map<number, number | null>();
  private trailer: PdfDict | null = null;

  constructor(
    private readonly fh: FileHandle,
    private readonly size: number,
  ) {}

  async loadXref(): Promise<void> {
    const tailStart = Math.max(0, this.size - 4096);
    const tail = await this.read(tailStart, this.size - tailStart);
    const at = tail.lastIndexOf('startxref');
    if (at === -1) throw new PdfSyntaxError('not a PDF: no startxref');
    let next: number | null = Number(/startxref\s+(\d+)/.exec(tail.toString('latin1', at))?.[1] ?? NaN);
    const seen = new Set<number>();
    while (next !== null) {
      if (!Number.isSafeInteger(next) || next < 0 || next >= this.size || seen.has(next)) throw new PdfSyntaxError('the PDF cross-reference offsets are broken');
      seen.add(next);
      const section: XrefSection = await this.parseAt(next, (p) => readXrefSection(p));
      for (const [num, offset] of section.entries) if (!this.offsets.has(num)) this.offsets.set(num, offset);
      this.trailer ??= section.trailer;
      const prev: PdfValue | undefined = section.trailer.get('Prev');
      next = typeof prev === 'number' ? prev : null;
    }
  }

  async findFilespec(name: string): Promise<PdfDict | null> {
    const root = asDict(await this.resolve(this.trailer?.get('Root')));
    if (!root) throw new PdfSyntaxError('the PDF has no catalog');
    const names = asDict(await this.resolve(root.get('Names')));
    const tree = asDict(await this.resolve(names?.get('EmbeddedFiles')));
    const fromTree = tree ? await this.searchNameTree(tree, name, 0) : null;
    if (fromTree) return fromTree;
    const af = await this.resolve(root.get('AF'));
    for (const item of Array.isArray(af) ? af : []) {
      const spec = asDict(await this.resolve(item));
      const fileName = spec?.get('UF') ?? spec?.get('F');
      if (spec && Buffer.isBuffer(fileName) && pdfText(fileName) === name) return spec;
    }
    return null;
  }

  async streamLocation(ref: PdfRef): Promise<AttachmentLocation> {
    const { value, streamStart } = await this.object(ref);
    const dict = asDict(value);
    if (!dict || streamStart === null) throw new PdfSyntaxError(`object ${ref.num} is not a stream`);
    const length = await this.resolve(dict.get('Length'));
    if (typeof length !== 'number' || !Number.isSafeInteger(length) || length < 0 || streamStart + length > this.size) throw new PdfSyntaxError(`object ${ref.num} has a bad /Length`);
    const filter = await this.resolve(dict.get('Filter'));
    const filters = (Array.isArray(filter) ? filter : filter === undefined || filter === null ? [] : [filter]).map((f) => (f instanceof PdfName ? f.name : '?'));
    if (filters.length > 1 || (filters.length === 1 && filters[0] !== 'FlateDecode') || dict.has('DecodeParms')) {
      throw new PdfSyntaxError(`the embedded file is encoded with ${filters.join(', ') || 'parameters'}, which this reader does not decode`);
    }
    const after = (await this.read(streamStart + length, Math.min(16, this.size - streamStart - length))).toString('latin1');
    if (!/^\s*endstream/.test(after)) throw new PdfSyntaxError(`object ${ref.num}: /Length does not end at endstream`);
    return { start: streamStart, length, deflated: filters.length === 1 };
  }

  async resolve(v: PdfValue | undefined): Promise<PdfValue | undefined> {
    for (let hops = 0; v instanceof PdfRef; hops++) {
      if (hops > 32) throw new PdfSyntaxError('a reference chain is too long');
      v = (await this.object(v)).value;
    }
    return v;
  }

  private async searchNameTree(node: PdfDict, name: string, depth: number): Promise<PdfDict | null> {
    if (depth > 32) throw new PdfSyntaxError('the name tree is too deep');
    const pairs = await this.resolve(node.get('Names'));
    if (Array.isArray(pairs)) {
      for (let i = 0; i + 1 < pairs.length; i += 2) {
        const key = pairs[i];
        if (Buffer.isBuffer(key) && pdfText(key) === name) return asDict(await this.resolve(pairs[i + 1]));
      }
    }
    const kids = await this.resolve(node.get('Kids'));
    for (const kid of Array.isArray(kids) ? kids : []) {
      const child = asDict(await this.resolve(kid));
      const found = child ? await this.searchNameTree(child, name, depth + 1) : null;
      if (found) return found;
    }
    return null;
  }

  private async object(ref: PdfRef): Promise<{ value: PdfValue; streamStart: number | null }> {
    const offset = this.offsets.get(ref.num);
    if (offset === undefined || offset === null) throw new PdfSyntaxError(`object ${ref.num} is not in the cross-reference table`);
    return this.parseAt(offset, (p) => {
      const [num, , keyword] = [p.token(), p.token(), p.token()];
      if (Number(num) !== ref.num || keyword !== 'obj') throw new PdfSyntaxError(`object ${ref.num} is not where the cross-reference table says`);
      const value = p.value();
      p.skipSpace();
      const save = p.pos;
      if (p.token() !== 'stream') {
        p.pos = save;
        return { value, streamStart: null };
      }
      // The keyword is followed by CRLF or LF, then the data (ISO 32000 §7.3.8.1).
      const eol = p.peekEol();
      return { value, streamStart: offset + p.pos + eol };
    });
  }

  private async parseAt<T>(offset: number, fn: (p: PdfParser) => T): Promise<T> {
    for (let window = 4096; ; window *= 4) {
      const length = Math.min(window, this.size - offset);
      try {
        return fn(new PdfParser(await this.read(offset, length)));
      } catch (err) {
        if (!(err instanceof NeedMoreBytes)) throw err;
        if (offset + length >= this.size || window >= MAX_WINDOW) throw new PdfSyntaxError(`the PDF ends inside the object at byte ${offset}`);
      }
    }
  }

  private async read(offset: number, length: number): Promise<Buffer> {
    const buf = Buffer.alloc(Math.max(0, length));
    const { bytesRead } = await this.fh.read(buf, 0, buf.length, offset);
    return buf.subarray(0, bytesRead);
  }
}

interface XrefSection {
  /** Object number → byte offset, or null for a free entry. */
  readonly entries: Array<[number, number | null]>;
  readonly trailer: PdfDict;
}

function readXrefSection(p: PdfParser): XrefSection {
  if (p.token() !== 'xref') throw new PdfSyntaxError('the PDF keeps its cross-reference in a stream (PDF 1.5+), which this reader does not support; extract the CSV with pdfdetach instead');
  const entries: Array<[number, number | null]> = [];
  for (;;) {
    const word = p.token();
    if (word === 'trailer') {
      const trailer = p.value();
      if (!(trailer instanceof Map)) throw new PdfSyntaxError('the trailer is not a dictionary');
      return { entries, trailer };
    }
    const first = Number(word);
    const count = Number(p.token());
    if (!Number.isSafeInteger(first) || !Number.isSafeInteger(count)) throw new PdfSyntaxError('a cross-reference subsection header is malformed');
    for (let i = 0; i < count; i++) {
      const [offset, , type] = [p.token(), p.token(), p.token()];
      entries.push([first + i, type === 'n' ? Number(offset) : null]);
    }
  }
}

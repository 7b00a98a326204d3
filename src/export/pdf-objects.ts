/** A PDF name (`/Type`), kept apart from strings so the two can never be confused. */
export class PdfName {
  constructor(readonly name: string) {}
}

/** An indirect reference `N G R`. */
export class PdfRef {
  constructor(
    readonly num: number,
    readonly gen: number,
  ) {}
}

export type PdfValue = number | boolean | null | PdfName | PdfRef | Buffer | PdfValue[] | PdfDict;
export type PdfDict = Map<string, PdfValue>;

/** Thrown when the bytes are not the PDF syntax the reader understands. */
export class PdfSyntaxError extends Error {
  override readonly name = 'PdfSyntaxError';
}

const WHITESPACE = new Set([0x00, 0x09, 0x0a, 0x0c, 0x0d, 0x20]);
const DELIMITERS = new Set([0x28, 0x29, 0x3c, 0x3e, 0x5b, 0x5d, 0x7b, 0x7d, 0x2f, 0x25]);

/**
 * A reader for the small subset of PDF object syntax (ISO 32000 §7.3) that locating an
 * embedded file needs: dictionaries, arrays, names, strings, numbers, references. It reads
 * from an in-memory window of the file; `NeedMoreBytes` asks the caller for a larger one.
 */
export class PdfParser {
  pos: number;

  constructor(
    private readonly buf: Buffer,
    start = 0,
  ) {
    this.pos = start;
  }

  skipSpace(): void {
    for (;;) {
      const c = this.buf[this.pos];
      if (c === undefined) return;
      if (WHITESPACE.has(c)) this.pos += 1;
      else if (c === 0x25) {
        while (this.pos < this.buf.length && this.buf[this.pos] !== 0x0a && this.buf[this.pos] !== 0x0d) this.pos += 1;
      } else return;
    }
  }

  /** Length of the end-of-line marker at the current position (CRLF: 2, LF: 1), without consuming it. */
  peekEol(): number {
    if (this.buf[this.pos] === 0x0d && this.buf[this.pos + 1] === 0x0a) return 2;
    if (this.buf[this.pos] === 0x0a) return 1;
    if (this.pos + 1 >= this.buf.length) throw new NeedMoreBytes();
    throw new PdfSyntaxError(`'stream' is not followed by an end-of-line at byte ${this.pos}`);
  }

  /** Reads a bare keyword or number token (`obj`, `stream`, `12`). */
  token(): string {
    this.skipSpace();
    const start = this.pos;
    while (this.pos < this.buf.length) {
      const c = this.buf[this.pos]!;
      if (WHITESPACE.has(c) || DELIMITERS.has(c)) break;
      this.pos += 1;
    }
    if (this.pos === this.buf.length) throw new NeedMoreBytes();
    return this.buf.toString('latin1', start, this.pos);
  }

  value(): PdfValue {
    this.skipSpace();
    const c = this.buf[this.pos];
    if (c === undefined) throw new NeedMoreBytes();
    if (c === 0x3c && this.buf[this.pos + 1] === 0x3c) return this.dict();
    if (c === 0x3c) return this.hexString();
    if (c === 0x28) return this.literalString();
    if (c === 0x2f) return this.name();
    if (c === 0x5b) return this.array();
    const word = this.token();
    if (word === 'true' || word === 'false') return word === 'true';
    if (word === 'null') return null;
    if (!/^[+-]?(\d+\.?\d*|\.\d+)$/.test(word)) throw new PdfSyntaxError(`unexpected token '${word}' at byte ${this.pos}`);
    const num = Number(word);
    if (/^\d+$/.test(word)) {
      // `N G R` is a reference; look ahead without consuming when it is not.
      const save = this.pos;
      const gen = this.token();
      if (/^\d+$/.test(gen) && this.token() === 'R') return new PdfRef(num, Number(gen));
      this.pos = save;
    }
    return num;
  }

  private dict(): PdfDict {
    this.pos += 2;
    const out: PdfDict = new Map();
    for (;;) {
      this.skipSpace();
      if (this.pos + 1 >= this.buf.length) throw new NeedMoreBytes();
      if (this.buf[this.pos] === 0x3e && this.buf[this.pos + 1] === 0x3e) {
        this.pos += 2;
        return out;
      }
      const key = this.value();
      if (!(key instanceof PdfName)) throw new PdfSyntaxError(`a dictionary key is not a name at byte ${this.pos}`);
      out.set(key.name, this.value());
    }
  }

  private array(): PdfValue[] {
    this.pos += 1;
    const out: PdfValue[] = [];
    for (;;) {
      this.skipSpace();
      if (this.pos >= this.buf.length) throw new NeedMoreBytes();
      if (this.buf[this.pos] === 0x5d) {
        this.pos += 1;
        return out;
      }
      out.push(this.value());
    }
  }

  private name(): PdfName {
    this.pos += 1;
    const raw = this.token();
    return new PdfName(raw.replace(/#([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))));
  }

  private hexString(): Buffer {
    const end = this.buf.indexOf(0x3e, this.pos);
    if (end === -1) throw new NeedMoreBytes();
    const hex = this.buf.toString('latin1', this.pos + 1, end).replace(/\s+/g, '');
    this.pos = end + 1;
    return Buffer.from(hex.length % 2 ? `${hex}0` : hex, 'hex');
  }

  private literalString(): Buffer {
    const bytes: number[] = [];
    let depth = 1;
    this.pos += 1;
    for (;;) {
      const c = this.buf[this.pos++];
      if (c === undefined) throw new NeedMoreBytes();
      if (c === 0x5c) {
        const e = this.buf[this.pos++];
        if (e === undefined) throw new NeedMoreBytes();
        const simple: Record<number, number> = { 0x6e: 0x0a, 0x72: 0x0d, 0x74: 0x09, 0x62: 0x08, 0x66: 0x0c, 0x28: 0x28, 0x29: 0x29, 0x5c: 0x5c };
        if (simple[e] !== undefined) bytes.push(simple[e]);
        else if (e >= 0x30 && e <= 0x37) {
          let octal = e - 0x30;
          for (let i = 0; i < 2 && (this.buf[this.pos] ?? 0) >= 0x30 && (this.buf[this.pos] ?? 0) <= 0x37; i++) octal = octal * 8 + (this.buf[this.pos++]! - 0x30);
          bytes.push(octal & 0xff);
        } else if (e === 0x0d) {
          if (this.buf[this.pos] === 0x0a) this.pos += 1;
        } else if (e !== 0x0a) bytes.push(e);
        continue;
      }
      if (c === 0x28) depth += 1;
      if (c === 0x29 && --depth === 0) return Buffer.from(bytes);
      bytes.push(c);
    }
  }
}

/** The parser reached the end of its window mid-object. */
export class NeedMoreBytes extends Error {
  override readonly name = 'NeedMoreBytes';
}

/** Decodes a PDF text string: UTF-16BE with a byte-order mark, else (near enough) Latin-1. */
export function pdfText(bytes: Buffer): string {
  if (bytes.length >= 2 && bytes[0] === 0xfe && bytes[1] === 0xff) {
    const swapped = Buffer.from(bytes.subarray(2, bytes.length - (bytes.length % 2)));
    swapped.swap16();
    return swapped.toString('utf16le');
  }
  return bytes.toString('latin1');
}

const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;

/** How a record ended in the file. */
export type RecordEnd = 'crlf' | 'lf' | 'eof';

/** Receives each record's bytes (without its line ending); the view is valid only during the call. */
export type RecordSink = (bytes: Buffer, end: RecordEnd) => void;

/**
 * Splits a byte stream into RFC 4180 records: a record ends at a line feed outside double
 * quotes. Works on bytes, not text, because the row chain hashes the file's exact bytes.
 *
 * Invariant: holds at most one unfinished record plus one chunk, and refuses a record longer
 * than `maxRecordBytes` (an unbalanced quote would otherwise swallow the rest of the file
 * into memory).
 */
export class CsvRecordSplitter {
  private carry: Buffer = Buffer.alloc(0);
  /** Bytes of `carry` already scanned, and whether that scan ended inside quotes. */
  private scanned = 0;
  private inQuotes = false;

  constructor(
    private readonly sink: RecordSink,
    private readonly maxRecordBytes = 16 * 1024 * 1024,
  ) {}

  push(chunk: Buffer): void {
    const buf = this.carry.length === 0 ? chunk : Buffer.concat([this.carry, chunk]);
    let start = 0;
    let pos = this.scanned;
    let inQuotes = this.inQuotes;
    for (;;) {
      const lf = buf.indexOf(LF, pos);
      const stop = lf === -1 ? buf.length : lf;
      // Quote parity tells whether a line feed is inside a quoted field ("" toggles twice).
      for (let q = buf.indexOf(QUOTE, pos); q !== -1 && q < stop; q = buf.indexOf(QUOTE, q + 1)) inQuotes = !inQuotes;
      if (lf === -1) break;
      pos = lf + 1;
      if (inQuotes) continue;
      const crlf = lf > start && buf[lf - 1] === CR;
      this.sink(buf.subarray(start, crlf ? lf - 1 : lf), crlf ? 'crlf' : 'lf');
      start = pos;
    }
    this.carry = buf.subarray(start);
    this.scanned = buf.length - start;
    this.inQuotes = inQuotes;
    if (this.carry.length > this.maxRecordBytes) {
      throw new RecordTooLongError(`a record is longer than ${this.maxRecordBytes} bytes (unbalanced quote?)`);
    }
  }

  /** Flushes a last record that has no line ending. */
  end(): void {
    if (this.carry.length > 0) this.sink(this.carry, 'eof');
    this.carry = Buffer.alloc(0);
    this.scanned = 0;
    this.inQuotes = false;
  }
}

export class RecordTooLongError extends Error {
  override readonly name = 'RecordTooLongError';
}

import { CSV_COLUMNS, CSV_HEADER, MANIFEST_PREFIX } from './export-format.js';
import { ExportChain } from './export-chain.js';
import type { ExportManifest } from './export-manifest.js';
import { manifestSignedBytes } from './export-manifest.js';
import type { FieldSpan } from './csv-record-fields.js';
import { splitFields } from './csv-record-fields.js';
import type { RecordEnd } from './csv-record-splitter.js';
import { parseManifest } from './manifest-check.js';
import { manifestHmacMatches, manifestSignatureMatches } from './manifest-signing.js';

/** One thing wrong with an export, at its 1-based record number (the header is record 1). */
export interface VerifyProblem {
  readonly record: number;
  readonly seq?: number;
  readonly reason: string;
}

export type CheckStatus = 'verified' | 'failed' | 'not_checked';

/** What walking the records found, before any key is applied. */
export interface RecordWalk {
  readonly rowCount: number;
  readonly firstSeq: number | null;
  readonly lastSeq: number | null;
  readonly finalHash: string;
  readonly manifest: ExportManifest | null;
  /** False once any record or manifest problem was seen. */
  readonly structureOk: boolean;
}

const MAX_PROBLEMS = 100;
const HEX64 = /^[0-9a-f]{64}$/;
const SEQ = /^[1-9][0-9]{0,15}$/;
const MANIFEST_BYTES = Buffer.from(MANIFEST_PREFIX, 'ascii');
const HEADER_BYTES = Buffer.from(CSV_HEADER, 'ascii');

/**
 * Checks an export record by record, as `CsvRecordSplitter` hands them over, holding only
 * counters and the current chain hash. Each data record is checked against the hash its
 * predecessor states, so every altered, removed, duplicated or reordered record is reported
 * where it is, once; when no record is reported, the stated hashes are the true chain.
 */
export class CsvExportVerifier {
  private readonly chain = new ExportChain();
  private readonly problems: VerifyProblem[] = [];
  private problemCount = 0;
  private records = 0;
  private rowCount = 0;
  private firstSeq: number | null = null;
  private lastSeq: number | null = null;
  private manifestRecord = 0;
  private manifest: ExportManifest | null = null;
  private signedBytes: Buffer | null = null;
  private trailingReported = false;

  /** Feeds the next record (bytes without the line ending). */
  record(bytes: Buffer, end: RecordEnd): void {
    const n = ++this.records;
    if (end === 'lf') this.fail(n, 'the record ends with LF, not CRLF');
    if (end === 'eof') this.fail(n, 'the last record has no CRLF line ending');
    if (this.manifestRecord > 0) {
      if (!this.trailingReported) this.fail(n, 'a record follows the manifest');
      this.trailingReported = true;
      return;
    }
    if (n === 1) {
      if (!bytes.equals(HEADER_BYTES)) this.fail(1, bytes.subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf])) ? 'the file starts with a byte-order mark' : `the header is not "${CSV_HEADER}"`);
      return;
    }
    if (bytes.subarray(0, MANIFEST_BYTES.length).equals(MANIFEST_BYTES) || bytes.subarray(1, MANIFEST_BYTES.length + 1).equals(MANIFEST_BYTES)) {
      this.readManifest(bytes, n);
    } else {
      this.readRow(bytes, n);
    }
  }

  /** Ends the walk: checks the manifest against the records and reports a missing one. */
  finish(): RecordWalk {
    if (this.records === 0) this.fail(1, 'the file is empty');
    if (this.manifestRecord === 0) {
      this.fail(this.records + 1, 'there is no manifest record');
    } else if (this.manifest) {
      const m = this.manifest;
      const at = this.manifestRecord;
      if (m.row_count !== this.rowCount) this.fail(at, `the manifest says row_count ${String(m.row_count)}, the file has ${this.rowCount} rows`);
      if (m.first_seq !== this.firstSeq) this.fail(at, `the manifest says first_seq ${String(m.first_seq)}, the first row has ${String(this.firstSeq)}`);
      if (m.last_seq !== this.lastSeq) this.fail(at, `the manifest says last_seq ${String(m.last_seq)}, the last row has ${String(this.lastSeq)}`);
      if (m.final_hash !== this.chain.headHex) this.fail(at, `the manifest's final_hash does not match the last row hash ${this.chain.headHex}`);
    }
    return {
      rowCount: this.rowCount,
      firstSeq: this.firstSeq,
      lastSeq: this.lastSeq,
      finalHash: this.chain.headHex,
      manifest: this.manifest,
      structureOk: this.problemCount === 0,
    };
  }

  /** Checks the manifest HMAC with the deployment's SECRET_KEY. */
  checkHmac(secretKey: string): CheckStatus {
    if (!this.manifest || !this.signedBytes) return 'failed';
    if (manifestHmacMatches(secretKey, this.signedBytes, String(this.manifest.hmac))) return 'verified';
    this.fail(this.manifestRecord, 'the manifest HMAC does not match (wrong SECRET_KEY, or the manifest was changed)');
    return 'failed';
  }

  /** Checks the manifest's Ed25519 signature with a raw public key (base64url). */
  checkSignature(publicKey: string, keyOrigin = 'the given public key'): CheckStatus {
    if (!this.manifest || !this.signedBytes) return 'failed';
    if (manifestSignatureMatches(publicKey, this.signedBytes, String(this.manifest.signature))) return 'verified';
    this.fail(this.manifestRecord, `the manifest signature does not verify with ${keyOrigin}`);
    return 'failed';
  }

  /** Records a problem found outside the records (a key that cannot be had, unreadable input). */
  fail(record: number, reason: string, seq?: number): void {
    this.problemCount += 1;
    if (this.problems.length < MAX_PROBLEMS) this.problems.push(seq === undefined ? { record, reason } : { record, seq, reason });
  }

  get problemList(): readonly VerifyProblem[] {
    return this.problems;
  }

  /** Problems found, including any beyond the first `MAX_PROBLEMS` that were not kept. */
  get totalProblems(): number {
    return this.problemCount;
  }

  get manifestRecordNumber(): number {
    return this.manifestRecord;
  }

  private readRow(bytes: Buffer, n: number): void {
    this.rowCount += 1;
    const split = splitFields(bytes);
    const fields: FieldSpan[] = split.ok ? split.fields : [];
    const comma = bytes.indexOf(0x2c);
    const seqText = bytes.toString('latin1', 0, comma === -1 ? Math.min(bytes.length, 17) : Math.min(comma, 17));
    const seq = SEQ.test(seqText) ? Number(seqText) : undefined;
    if (!split.ok) this.fail(n, split.reason, seq);
    else if (fields.length !== CSV_COLUMNS.length) this.fail(n, `the record has ${fields.length} fields, not ${CSV_COLUMNS.length}`, seq);
    if (seq === undefined) this.fail(n, 'seq is not a positive integer');
    else {
      if (this.lastSeq !== null && seq <= this.lastSeq) this.fail(n, `seq ${seq} does not ascend (previous row has ${this.lastSeq})`, seq);
      this.firstSeq ??= seq;
      this.lastSeq = seq;
    }
    // row_hash is the last 64 bytes after a comma whatever the parse said, so a record that
    // is malformed elsewhere still lets the chain carry on to the next one.
    const stated = bytes.length > 65 && bytes[bytes.length - 65] === 0x2c ? bytes.toString('latin1', bytes.length - 64) : '';
    if (!HEX64.test(stated)) {
      this.fail(n, 'row_hash is not 64 lowercase hex digits', seq);
      this.chain.next(bytes);
      return;
    }
    const computed = this.chain.next(bytes.subarray(0, bytes.length - 65));
    if (computed !== stated) {
      this.fail(n, 'row_hash does not match: this record, or one before it, was changed, removed, added or moved', seq);
      this.chain.continueFrom(stated);
    }
  }

  private readManifest(bytes: Buffer, n: number): void {
    this.manifestRecord = n;
    const split = splitFields(bytes);
    if (!split.ok) return this.fail(n, `manifest record: ${split.reason}`);
    const only = split.fields[0];
    if (split.fields.length !== 1 || !only) return this.fail(n, 'the manifest record has more than one field');
    const value = unquotedBytes(bytes, only);
    const parsed = parseManifest(value.subarray(MANIFEST_BYTES.length));
    for (const problem of parsed.problems) this.fail(n, problem);
    this.manifest = parsed.manifest;
    if (parsed.manifest) {
      try {
        this.signedBytes = manifestSignedBytes(parsed.manifest as unknown as Record<string, unknown>);
      } catch {
        this.signedBytes = null;
      }
    }
  }
}

/** A field's value as bytes: outer quotes removed, doubled quotes undone. */
function unquotedBytes(record: Buffer, span: FieldSpan): Buffer {
  if (!span.quoted) return record.subarray(span.start, span.end);
  const inner = record.subarray(span.start + 1, span.end - 1);
  const parts: Buffer[] = [];
  let from = 0;
  for (let q = inner.indexOf(0x22); q !== -1; q = inner.indexOf(0x22, q + 2)) {
    parts.push(inner.subarray(from, q + 1));
    from = q + 2;
  }
  parts.push(inner.subarray(from));
  return Buffer.concat(parts);
}

import type { StoredEntry } from '../audit/audit-entry.js';
import { isoTime } from '../audit/audit-entry.js';
import { canonicalJson } from '../chain/canonical-json.js';
import { csvField } from './csv-field.js';
import { CsvRowEncoder } from './csv-row.js';
import { ExportChain } from './export-chain.js';
import { CRLF, CSV_FORMAT, CSV_HEADER, MANIFEST_PREFIX } from './export-format.js';
import type { ExportManifest, ManifestInput, UnsignedManifest } from './export-manifest.js';
import { assertSignable, manifestSignedBytes } from './export-manifest.js';
import type { ManifestSigner } from './manifest-signing.js';
import { manifestHmac, signManifest } from './manifest-signing.js';

export interface CsvExportOptions {
  readonly manifest: ManifestInput;
  /** The deployment's SECRET_KEY; the manifest HMAC is keyed from it. */
  readonly secretKey: string;
  /** The current signing key; its id goes into the manifest as `key_id`. */
  readonly signer: ManifestSigner;
  /** Roughly how many characters to gather before yielding a chunk (default 64 KiB). */
  readonly chunkChars?: number;
}

/** What a finished export covered, for the `audit.exported` entry and the PDF cover. */
export interface CsvExportResult {
  readonly rowCount: number;
  readonly firstSeq: number | null;
  readonly lastSeq: number | null;
  /** Lowercase hex of the last row hash (of the genesis when there are no rows). */
  readonly finalHash: string;
  /** Bytes of the whole file, manifest included. */
  readonly byteCount: number;
  readonly manifest: ExportManifest;
}

/**
 * A CSV evidence export (EXPORT-FORMAT.md, CSV v1) as a stream of Buffer chunks.
 *
 * Invariants: entries must arrive in strictly ascending seq, none above `log_head.seq`
 * (otherwise iteration throws before the manifest is written, so a bad export never carries
 * a valid signature). Only one chunk of text is held at a time, so memory stays flat
 * whatever the row count. `result` is available once iteration has completed; an export
 * can be iterated once.
 */
export class CsvExport implements AsyncIterable<Buffer> {
  private finished: CsvExportResult | null = null;
  private started = false;

  constructor(
    private readonly entries: AsyncIterable<StoredEntry>,
    private readonly options: CsvExportOptions,
  ) {
    assertSignable(options.manifest.filters);
  }

  /** The export's totals and manifest; throws until the last chunk has been read. */
  get result(): CsvExportResult {
    if (!this.finished) throw new Error('the CSV export has not finished yet');
    return this.finished;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer, void, undefined> {
    if (this.started) throw new Error('a CSV export can be read only once');
    this.started = true;
    const limit = this.options.chunkChars ?? 64 * 1024;
    const headSeq = this.options.manifest.log_head.seq;
    const chain = new ExportChain();
    const rows = new CsvRowEncoder();
    let pending = CSV_HEADER + CRLF;
    let byteCount = 0;
    let rowCount = 0;
    let firstSeq: number | null = null;
    let lastSeq: number | null = null;

    for await (const entry of this.entries) {
      if (lastSeq !== null && entry.seq <= lastSeq) throw new Error(`export rows must ascend by seq (${entry.seq} after ${lastSeq})`);
      if (entry.seq > headSeq) throw new Error(`seq ${entry.seq} is beyond the log head ${headSeq} the manifest names`);
      const content = rows.content(entry);
      pending += `${content},${chain.next(content)}${CRLF}`;
      rowCount += 1;
      firstSeq ??= entry.seq;
      lastSeq = entry.seq;
      if (pending.length >= limit) {
        const chunk = Buffer.from(pending, 'utf8');
        byteCount += chunk.length;
        pending = '';
        yield chunk;
      }
    }

    const manifest = this.sign({
      format: CSV_FORMAT,
      tenant: this.options.manifest.tenant,
      exported_at: isoTime(this.options.manifest.exported_at),
      exported_by: this.options.manifest.exported_by,
      filters: this.options.manifest.filters,
      row_count: rowCount,
      first_seq: firstSeq,
      last_seq: lastSeq,
      final_hash: chain.headHex,
      log_head: { seq: this.options.manifest.log_head.seq, hash: this.options.manifest.log_head.hash },
      key_id: this.options.signer.keyId,
    });
    const last = Buffer.from(pending + csvField(MANIFEST_PREFIX + canonicalJson(manifest)) + CRLF, 'utf8');
    byteCount += last.length;
    this.finished = { rowCount, firstSeq, lastSeq, finalHash: manifest.final_hash, byteCount, manifest };
    yield last;
  }

  private sign(unsigned: UnsignedManifest): ExportManifest {
    const bytes = manifestSignedBytes(unsigned);
    return { ...unsigned, hmac: manifestHmac(this.options.secretKey, bytes), signature: signManifest(this.options.signer.privateKey, bytes) };
  }
}

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { CheckStatus, VerifyProblem } from './csv-export-verifier.js';
import { CsvExportVerifier } from './csv-export-verifier.js';
import { CsvRecordSplitter, RecordTooLongError } from './csv-record-splitter.js';
import type { ExportManifest, JsonValue } from './export-manifest.js';
import { keyIdFor, publicKeyFromRaw } from './ed25519-keys.js';
import { BUNDLE_CSV_NAME } from './export-format.js';
import { openPdfAttachment } from './pdf-attachment-reader.js';

export type { CheckStatus, VerifyProblem } from './csv-export-verifier.js';

export interface VerifyOptions {
  /** The deployment's SECRET_KEY: checks the manifest HMAC. */
  readonly secretKey?: string;
  /** A raw Ed25519 public key (base64url): checks the manifest signature. */
  readonly publicKey?: string;
  /** Finds the public key for the manifest's key_id (e.g. from GET /api/audit/keys); null when unknown. */
  readonly resolvePublicKey?: (keyId: string) => Promise<string | null>;
}

/**
 * The outcome of verifying an export. `ok` is true only when there is no problem at all;
 * the counts, hash and seq range are what the records themselves show (compare them with
 * the manifest's, which `manifest` carries as written).
 */
export interface ExportVerification {
  readonly ok: boolean;
  readonly kind: 'csv' | 'pdf';
  readonly row_count: number;
  readonly first_seq: number | null;
  readonly last_seq: number | null;
  readonly final_hash: string;
  readonly filters: { readonly [key: string]: JsonValue } | null;
  readonly manifest: ExportManifest | null;
  readonly checks: { readonly records: 'verified' | 'failed'; readonly hmac: CheckStatus; readonly signature: CheckStatus };
  /** SHA-256 (hex) of the CSV bytes: the PDF cover page states the same value. */
  readonly csv_sha256: string;
  readonly csv_bytes: number;
  /** The first problems found (at most 100), in file order; `error_count` counts all. */
  readonly errors: readonly VerifyProblem[];
  readonly error_count: number;
}

/**
 * Verifies a CSV export, or the CSV embedded in a PDF evidence bundle, with no database:
 * streams the file once (flat memory), re-walks the row chain and checks the manifest, then
 * the HMAC and signature when the keys are given. Refuses everything EXPORT-FORMAT.md lists.
 */
export async function verifyExport(path: string, options: VerifyOptions = {}): Promise<ExportVerification> {
  const kind = (await startsWithPdfMagic(path)) ? 'pdf' : 'csv';
  if (kind === 'pdf') {
    let source: AsyncIterable<Buffer>;
    try {
      source = await openPdfAttachment(path, BUNDLE_CSV_NAME);
    } catch (err) {
      const verifier = new CsvExportVerifier();
      verifier.fail(0, `cannot read the embedded ${BUNDLE_CSV_NAME}: ${(err as Error).message}`);
      return summarize(verifier, kind, options, createHash('sha256'), 0);
    }
    return verifyExportStream(source, options, kind);
  }
  return verifyExportStream(createReadStream(path, { highWaterMark: 1024 * 1024 }), options, kind);
}

/** Verifies CSV export bytes from any byte stream. */
export async function verifyExportStream(source: AsyncIterable<Buffer | string> | Iterable<Buffer | string>, options: VerifyOptions = {}, kind: 'csv' | 'pdf' = 'csv'): Promise<ExportVerification> {
  const verifier = new CsvExportVerifier();
  const splitter = new CsvRecordSplitter((bytes, end) => verifier.record(bytes, end));
  const sha = createHash('sha256');
  let bytes = 0;
  try {
    for await (const piece of source) {
      const chunk = typeof piece === 'string' ? Buffer.from(piece, 'utf8') : piece;
      sha.update(chunk);
      bytes += chunk.length;
      splitter.push(chunk);
    }
    splitter.end();
  } catch (err) {
    if (!(err instanceof RecordTooLongError)) {
      verifier.fail(0, `cannot read the export: ${(err as Error).message}`);
    } else verifier.fail(0, err.message);
  }
  return summarize(verifier, kind, options, sha, bytes);
}

async function summarize(verifier: CsvExportVerifier, kind: 'csv' | 'pdf', options: VerifyOptions, sha: ReturnType<typeof createHash>, bytes: number): Promise<ExportVerification> {
  const walk = verifier.finish();
  const chainOk = walk.structureOk;
  const hmac: CheckStatus = options.secretKey === undefined ? 'not_checked' : verifier.checkHmac(options.secretKey);
  const signature = await checkSignature(verifier, walk.manifest, options);
  return {
    ok: verifier.totalProblems === 0,
    kind,
    row_count: walk.rowCount,
    first_seq: walk.firstSeq,
    last_seq: walk.lastSeq,
    final_hash: walk.finalHash,
    filters: walk.manifest && typeof walk.manifest.filters === 'object' ? walk.manifest.filters : null,
    manifest: walk.manifest,
    checks: { records: chainOk ? 'verified' : 'failed', hmac, signature },
    csv_sha256: sha.digest('hex'),
    csv_bytes: bytes,
    errors: verifier.problemList,
    error_count: verifier.totalProblems,
  };
}

async function checkSignature(verifier: CsvExportVerifier, manifest: ExportManifest | null, options: VerifyOptions): Promise<CheckStatus> {
  if (options.publicKey === undefined && !options.resolvePublicKey) return 'not_checked';
  const at = verifier.manifestRecordNumber;
  if (!manifest || typeof manifest.key_id !== 'string') return 'failed';
  let publicKey = options.publicKey;
  let origin = 'the given public key';
  if (publicKey === undefined && options.resolvePublicKey) {
    try {
      publicKey = (await options.resolvePublicKey(manifest.key_id)) ?? undefined;
    } catch (err) {
      verifier.fail(at, `cannot fetch the public key ${manifest.key_id}: ${(err as Error).message}`);
      return 'failed';
    }
    if (publicKey === undefined) {
      verifier.fail(at, `no published public key has key_id ${manifest.key_id}`);
      return 'failed';
    }
    origin = `the published key ${manifest.key_id}`;
  }
  if (publicKey !== undefined && !publicKeyFromRaw(publicKey)) {
    verifier.fail(at, `${origin} is not an Ed25519 public key (base64url of 32 raw bytes)`);
    return 'failed';
  }
  if (publicKey !== undefined && keyIdFor(publicKey) !== manifest.key_id) {
    verifier.fail(at, `the manifest was signed by key ${manifest.key_id}, but the public key given is ${keyIdFor(publicKey)}`);
    return 'failed';
  }
  return verifier.checkSignature(publicKey ?? '', origin);
}

async function startsWithPdfMagic(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(5);
    const { bytesRead } = await fh.read(head, 0, 5, 0);
    return bytesRead === 5 && head.toString('latin1') === '%PDF-';
  } finally {
    await fh.close();
  }
}

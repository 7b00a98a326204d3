import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { AuditStore } from '../audit/audit.store.js';
import { CsvExport } from '../export/csv-export.js';
import { prepareEvidenceBundle } from '../export/pdf-bundle.js';
import type { SigningKeys } from '../export/signing-keys.js';
import { verifyExport } from '../export/verify-export.js';
import { VERSION } from '../version.js';

const DAY_MS = 86_400_000;

export interface ArchivedFile {
  readonly file: string;
  readonly sha256: string;
  readonly rows: number;
}

const slug = (tenant: string): string => tenant.normalize('NFKD').replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60) || 'tenant';

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Archival before purge: writes the entries retention is about to remove as one signed CSV
 * export and its PDF evidence bundle per UTC day (`<tenant>_<YYYY-MM-DD>.csv|.pdf`), verifies
 * every file (chain, HMAC, signature), and only then lets retention remove them. Files are
 * written under a temporary name and renamed when complete.
 */
export class Archiver {
  constructor(
    private readonly deps: { store: AuditStore; keys: SigningKeys; secretKey: string; dir: string; now: () => number },
  ) {}

  /** Archives every entry recorded before `cutoff`; throws (and removes nothing) on any failure. */
  async archiveBefore(cutoff: number, tenant: string): Promise<ArchivedFile[]> {
    const { store } = this.deps;
    const { head, anchor } = await store.chainState();
    const first = (await store.page({ end: cutoff - 1 }, { order: 'oldest', limit: 1, afterSeq: anchor.seq })).items[0];
    if (!first) return [];
    await mkdir(this.deps.dir, { recursive: true });
    const signer = await this.deps.keys.current();
    const publicKey = signer.publicKey;
    const files: ArchivedFile[] = [];
    for (let day = Math.floor(first.ts / DAY_MS) * DAY_MS; day < cutoff; day += DAY_MS) {
      const end = Math.min(day + DAY_MS, cutoff) - 1;
      const filter = { start: day, end };
      if ((await store.count(filter, 1)).count === 0) continue;
      const date = new Date(day).toISOString().slice(0, 10);
      const base = join(this.deps.dir, `${slug(tenant)}_${date}`);
      const manifest = {
        tenant,
        exported_at: this.deps.now(),
        exported_by: { type: 'system' as const, id: 'retention', name: 'retention archive' },
        filters: { start: new Date(day).toISOString(), end: new Date(end).toISOString() },
        log_head: { seq: head.seq, hash: head.hash },
      };
      const options = { manifest, secretKey: this.deps.secretKey, signer };
      const csv = new CsvExport(store.iterate(filter, { toSeq: head.seq }), options);
      await this.writeAtomically(`${base}.csv`, Readable.from(csv));
      const bundle = await prepareEvidenceBundle(store.iterate(filter, { toSeq: head.seq }), { ...options, trailmarkVersion: VERSION });
      await this.writeAtomically(`${base}.pdf`, bundle.render());
      for (const file of [`${base}.csv`, `${base}.pdf`]) {
        const v = await verifyExport(file, { secretKey: this.deps.secretKey, publicKey });
        if (!v.ok) throw new Error(`archive ${file} does not verify: ${v.errors[0]?.reason ?? 'unknown reason'}`);
        if (v.row_count !== csv.result.rowCount) throw new Error(`archive ${file} holds ${v.row_count} rows, expected ${csv.result.rowCount}`);
        files.push({ file, sha256: await sha256Of(file), rows: v.row_count });
      }
    }
    return files;
  }

  private async writeAtomically(file: string, body: Readable): Promise<void> {
    const partial = `${file}.partial`;
    try {
      await pipeline(body, createWriteStream(partial));
      await rename(partial, file);
    } catch (err) {
      await rm(partial, { force: true });
      throw err;
    }
  }
}

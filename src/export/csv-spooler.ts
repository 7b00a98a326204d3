import { Worker } from 'node:worker_threads';

/** What the spooler wrote: the CSV's size and digests, and the deflated file's length. */
export interface SpooledCsv {
  readonly size: number;
  readonly sha256Hex: string;
  readonly md5Hex: string;
  readonly deflatedLength: number;
}

/**
 * The worker's program (plain JavaScript run with `eval`, for the reason given in
 * `src/chain/hash-pool.ts`): deflates the chunks it is sent into a file at level 1 while
 * hashing them with SHA-256 and MD5, and acknowledges each chunk once zlib has taken it.
 */
const SPOOLER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { createWriteStream } = require('node:fs');
const { createDeflate } = require('node:zlib');
const sha256 = createHash('sha256');
const md5 = createHash('md5');
let size = 0;
let deflatedLength = 0;
let failed = false;
const fail = (err) => {
  if (failed) return;
  failed = true;
  parentPort.postMessage({ type: 'error', message: String((err && err.stack) || err) });
};
const out = createWriteStream(workerData.path);
const deflate = createDeflate({ level: 1 });
deflate.on('data', (d) => { deflatedLength += d.length; if (!out.write(d)) { deflate.pause(); out.once('drain', () => deflate.resume()); } });
deflate.on('end', () => out.end());
deflate.on('error', fail);
out.on('error', fail);
out.on('finish', () => { if (!failed) parentPort.postMessage({ type: 'done', size, sha256Hex: sha256.digest('hex'), md5Hex: md5.digest('hex'), deflatedLength }); });
parentPort.on('message', (m) => {
  if (failed) return;
  try {
    if (m.type === 'chunk') {
      const chunk = Buffer.from(m.data, m.offset, m.length);
      sha256.update(chunk);
      md5.update(chunk);
      size += chunk.length;
      // The memory goes back with the acknowledgement, to carry a later chunk: left here it
      // would wait for this thread's rare garbage collections.
      deflate.write(chunk, () => parentPort.postMessage({ type: 'ack', spare: m.data }, [m.data]));
    } else if (m.type === 'end') {
      deflate.end();
    }
  } catch (err) {
    fail(err);
  }
});
`;

/** Chunks sent but not yet taken by zlib, at most (keeps memory flat when the disk is slow). */
const MAX_PENDING = 4;

/**
 * Writes a CSV export deflated into `path` and hashes it, in a worker thread, so the thread
 * that formats the rows does not also compress and hash them. The output is what
 * `createDeflate({ level: 1 })` and `createHash` give in this thread (the same zlib, the same
 * input in the same order). Memory stays flat: a few chunk buffers go back and forth.
 */
export class CsvSpooler {
  private readonly worker: Worker;
  private pending = 0;
  private waiting: (() => void) | null = null;
  private failure: Error | null = null;
  private readonly done: Promise<SpooledCsv>;
  /** Memory of acknowledged chunks, to copy the next ones into. */
  private readonly spares: ArrayBuffer[] = [];

  constructor(path: string) {
    this.worker = new Worker(SPOOLER_SOURCE, { eval: true, workerData: { path } });
    this.done = new Promise<SpooledCsv>((resolve, reject) => {
      const fail = (err: Error): void => {
        this.failure ??= err;
        this.wake();
        reject(this.failure);
      };
      this.worker.on('message', (m: { type: 'ack'; spare: ArrayBuffer } | ({ type: 'done' } & SpooledCsv) | { type: 'error'; message: string }) => {
        if (m.type === 'ack') {
          this.pending -= 1;
          this.spares.push(m.spare);
          this.wake();
        } else if (m.type === 'done') {
          resolve({ size: m.size, sha256Hex: m.sha256Hex, md5Hex: m.md5Hex, deflatedLength: m.deflatedLength });
          void this.worker.terminate();
        } else fail(new Error(`writing the bundle's CSV failed: ${m.message}`));
      });
      this.worker.on('error', (err) => fail(new Error(`writing the bundle's CSV failed: ${err.message}`, { cause: err })));
      this.worker.on('exit', (code) => fail(new Error(`the CSV spooler stopped (exit code ${code}) before it finished`)));
    });
    this.done.catch(() => undefined);
  }

  /** Hands over a copy of one chunk; resolves when there is room for the next. */
  async write(chunk: Buffer): Promise<void> {
    if (this.failure) throw this.failure;
    // Copied into memory that travels back and forth (at most MAX_PENDING + 1 such buffers).
    let data = this.spares.pop();
    if (!data || data.byteLength < chunk.byteLength) data = new ArrayBuffer(Math.max(chunk.byteLength, 256 * 1024));
    new Uint8Array(data).set(chunk);
    this.pending += 1;
    this.worker.postMessage({ type: 'chunk', data, offset: 0, length: chunk.byteLength }, [data]);
    while (this.pending >= MAX_PENDING && !this.failure) await new Promise<void>((r) => (this.waiting = r));
    if (this.failure) throw this.failure;
  }

  /** Ends the file; resolves with its facts once it is on disk. */
  end(): Promise<SpooledCsv> {
    this.worker.postMessage({ type: 'end' });
    return this.done;
  }

  /** Stops the worker without finishing the file. */
  async abort(): Promise<void> {
    this.failure ??= new Error('the CSV spooler was aborted');
    await this.worker.terminate();
  }

  private wake(): void {
    const w = this.waiting;
    this.waiting = null;
    w?.();
  }
}

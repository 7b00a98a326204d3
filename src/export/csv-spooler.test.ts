import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync, inflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CsvSpooler } from './csv-spooler.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'trailmark-spooler-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('CsvSpooler', () => {
  it('writes what level-1 deflate in this thread writes, with the size and digests of the input', async () => {
    // Chunks of every kind: large ones that own their memory, small ones from Buffer's shared pool, views.
    const text = Buffer.from(Array.from({ length: 3_000 }, (_, i) => `${i},2026-11-24T12:00:00.000Z,user.created,${randomBytes(32).toString('hex')}\r\n`).join(''));
    const chunks = [text.subarray(0, 70_000), Buffer.from('small,'), Buffer.from(text.subarray(70_000, 200_000)), Buffer.from(text.subarray(200_000))];
    const copies = chunks.map((c) => Buffer.from(c));
    const neighbour = Buffer.from('still here');
    const path = join(dir, 'a.deflate');
    const spooler = new CsvSpooler(path);
    for (const c of chunks) await spooler.write(c);
    const result = await spooler.end();
    const whole = Buffer.concat(copies);
    const file = await readFile(path);
    expect(file.equals(deflateSync(whole, { level: 1 }))).toBe(true);
    expect(inflateSync(file).equals(whole)).toBe(true);
    expect(result).toEqual({
      size: whole.length,
      sha256Hex: createHash('sha256').update(whole).digest('hex'),
      md5Hex: createHash('md5').update(whole).digest('hex'),
      deflatedLength: file.length,
    });
    expect(neighbour.toString()).toBe('still here');
  });

  it('fails when the file cannot be written', async () => {
    const spooler = new CsvSpooler(join(dir, 'no-such-folder', 'a.deflate'));
    await expect((async () => {
      for (let i = 0; i < 10; i++) await spooler.write(Buffer.alloc(100_000, 0x61));
      return spooler.end();
    })()).rejects.toThrow(/writing the bundle's CSV failed/);
  });

  it('refuses more chunks once aborted', async () => {
    const spooler = new CsvSpooler(join(dir, 'b.deflate'));
    await spooler.write(Buffer.from('x'));
    await spooler.abort();
    await expect(spooler.write(Buffer.from('y'))).rejects.toThrow(/aborted/);
  });
});

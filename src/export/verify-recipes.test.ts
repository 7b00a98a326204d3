import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson } from '../chain/canonical-json.js';
import { keyValues, workedExampleBlocks } from './testing/doc-blocks.js';
import { buildStoredEntry, exportToBuffer, TEST_SECRET_KEY, testSigner } from './testing/export-fixtures.js';
import { requireTool, run } from './testing/external-tools.js';

const RECIPE = fileURLToPath(new URL('../../docs/verify_export.py', import.meta.url));
requireTool('python3');
requireTool('openssl');

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'trailmark-recipe-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const python = (file: string, secret?: string, signedOut?: string) =>
  run('python3', [RECIPE, file, ...(signedOut ? [signedOut] : [])], { env: { PATH: process.env.PATH, ...(secret ? { SECRET_KEY: secret } : {}) } });

/** A real export with every kind of awkward field the writer handles. */
async function realExport(): Promise<{ bytes: Buffer; finalHash: string }> {
  const tricky = ['plain', 'a,b', 'say "hi"', 'line\r\nbreak', '=SUM(A1)', '+1', '-x', '@me', '\tTab', '\rCR', 'Zoë 😀 日本', ''];
  const entries = tricky.map((t, i) =>
    buildStoredEntry(i * 2 + 1, { description: t || 'empty name', resource: { type: 'secret', id: `id-${t}`, name: t || null }, detailsJson: canonicalJson({ note: t, n: i }) }),
  );
  const { bytes, result } = await exportToBuffer(entries);
  return { bytes, finalHash: result.finalHash };
}

describe('docs/verify_export.py', () => {
  it('is at most 30 lines', async () => {
    expect((await readFile(RECIPE, 'utf8')).trimEnd().split('\n').length).toBeLessThanOrEqual(30);
  });

  it('accepts a real export, HMAC included, and writes the signed bytes', async () => {
    const { bytes, finalHash } = await realExport();
    const file = join(dir, 'real.csv');
    await writeFile(file, bytes);
    const r = python(file, TEST_SECRET_KEY, join(dir, 'signed.bin'));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^VALID: 12 rows, seq 1\\.\\.23, final_hash ${finalHash}, HMAC verified`));
    const manifest = JSON.parse(bytes.toString('utf8').trimEnd().split('\r\n').at(-1)!.slice(1, -1).replaceAll('""', '"').slice('#manifest:'.length)) as Record<string, unknown>;
    const { hmac: _h, signature: _s, ...unsigned } = manifest;
    expect((await readFile(join(dir, 'signed.bin'))).toString('utf8')).toBe(canonicalJson(unsigned));
  });

  it('refuses tampered copies', async () => {
    const { bytes } = await realExport();
    const text = bytes.toString('utf8');
    const tampered: Array<[string, string | Buffer]> = [
      ['changed row', text.replace('id-a,b', 'id-a,c')],
      ['deleted row', text.replace(/\r\n3,[^\r]*?\r\n/, '\r\n')],
      ['wrong header', text.replace('actor_name', 'actor')],
      ['truncated', bytes.subarray(0, bytes.length - 10)],
      ['after manifest', `${text}x\r\n`],
      ['no manifest', text.slice(0, text.lastIndexOf('"#manifest:'))],
      ['row_count', text.replace('""row_count"":12', '""row_count"":11')],
    ];
    for (const [what, content] of tampered) {
      const file = join(dir, 'tampered.csv');
      await writeFile(file, content);
      expect({ what, status: python(file).status }).not.toEqual({ what, status: 0 });
    }
    const file = join(dir, 'wrong-secret.csv');
    await writeFile(file, bytes);
    const r = python(file, 'not-the-secret-key-0123456789abcdef');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/INVALID: manifest HMAC does not match/);
  });

  it('with the doc\'s openssl commands, checks the worked example\'s signature', async () => {
    const blocks = workedExampleBlocks();
    const keys = keyValues(blocks.get('keys')!);
    const signing = keyValues(blocks.get('signing')!);
    const file = join(dir, 'example.csv');
    await writeFile(file, `${blocks.get('file')!.replaceAll('\n', '\r\n')}\r\n`);
    const py = python(file, keys.get('SECRET_KEY'), join(dir, 'signed_bytes.bin'));
    expect(py.status).toBe(0);
    expect(py.stdout).toMatch(/HMAC verified/);
    const env = { PATH: process.env.PATH, PUBLIC_KEY: keys.get('public_key'), SIGNATURE: signing.get('signature') };
    const ok = run('sh', ['-ec', blocks.get('openssl')!], { cwd: dir, env });
    expect(ok.stdout).toMatch(/Signature Verified Successfully/);
    expect(ok.status).toBe(0);

    await writeFile(join(dir, 'signed_bytes.bin'), (await readFile(join(dir, 'signed_bytes.bin'), 'utf8')).replace('Acme Corp', 'Acme Corq'));
    expect(run('sh', ['-ec', blocks.get('openssl')!], { cwd: dir, env }).status).not.toBe(0);
  });

  it('with the doc\'s openssl commands, checks a real export signed by a generated key', async () => {
    const { bytes } = await realExport();
    const file = join(dir, 'real2.csv');
    await writeFile(file, bytes);
    expect(python(file, undefined, join(dir, 'signed_bytes.bin')).status).toBe(0);
    const signature = /""signature"":""([\w-]+)""/.exec(bytes.toString('utf8'))![1]!;
    const env = { PATH: process.env.PATH, PUBLIC_KEY: testSigner().publicKey, SIGNATURE: signature };
    expect(run('sh', ['-ec', workedExampleBlocks().get('openssl')!], { cwd: dir, env }).status).toBe(0);
  });
});

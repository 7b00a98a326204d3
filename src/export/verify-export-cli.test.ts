import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildStoredEntry, exportToBuffer, TEST_SECRET_KEY, testSigner } from './testing/export-fixtures.js';
import { verifyExportCommand } from './verify-export-cli.js';

let dir: string;
let good: string;
let bad: string;
let server: Server;
let keysUrl: string;
let keysBody: unknown;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'trailmark-cli-test-'));
  const { bytes } = await exportToBuffer([1, 2, 3].map((s) => buildStoredEntry(s)));
  good = join(dir, 'good.csv');
  bad = join(dir, 'bad.csv');
  await writeFile(good, bytes);
  await writeFile(bad, Buffer.from(bytes.toString('utf8').replace('resource 2,', 'resource 7,'), 'utf8'));
  server = createServer((req, res) => {
    if (req.url !== '/api/audit/keys') return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(keysBody));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  keysUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/audit/keys`;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  await rm(dir, { recursive: true, force: true });
});

async function cli(...argv: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const code = await verifyExportCommand(argv, (l) => lines.push(l));
  return { code, out: lines.join('\n') };
}

describe('trailmark verify FILE', () => {
  it('prints what the export covers and exits 0 when valid', async () => {
    const { code, out } = await cli(good, '--secret-key', TEST_SECRET_KEY, '--public-key', testSigner().publicKey);
    expect(code).toBe(0);
    expect(out).toMatch(/Rows: +3/);
    expect(out).toMatch(/Seq range: +1\.\.3/);
    expect(out).toMatch(/Final hash: +[0-9a-f]{64}/);
    expect(out).toMatch(/Filters: +\{"action":\["rotation\.\*"\]\}/);
    expect(out).toMatch(/HMAC: +verified/);
    expect(out).toMatch(/Signature: +verified/);
    expect(out.split('\n').at(-1)).toBe('VALID');
  });

  it('says what it could not check without keys', async () => {
    const { code, out } = await cli(good);
    expect(code).toBe(0);
    expect(out).toMatch(/HMAC: +not checked/);
    expect(out).toMatch(/Signature: +not checked/);
  });

  it('exits 1 and names the first bad record and why', async () => {
    const { code, out } = await cli(bad, '--secret-key', TEST_SECRET_KEY);
    expect(code).toBe(1);
    expect(out).toMatch(/INVALID: 1 problem$/m);
    expect(out).toMatch(/First bad record: record 3 \(seq 2\): row_hash does not match/);
  });

  it('exits 1 on a wrong secret key', async () => {
    const { code, out } = await cli(good, '--secret-key', 'not-the-secret-key-0123456789abcdef');
    expect(code).toBe(1);
    expect(out).toMatch(/HMAC: +FAILED/);
  });

  it('fetches the public key for the manifest key_id from --keys-url', async () => {
    const signer = testSigner();
    const other = testSigner(Buffer.alloc(32, 3));
    keysBody = { keys: [{ key_id: other.keyId, public_key: other.publicKey }, { key_id: signer.keyId, public_key: signer.publicKey }] };
    expect(await cli(good, '--keys-url', keysUrl)).toMatchObject({ code: 0, out: expect.stringMatching(/Signature: +verified \(key [0-9a-f]{16}\)/) as unknown });

    keysBody = { keys: [{ key_id: other.keyId, public_key: other.publicKey }] };
    const missing = await cli(good, '--keys-url', keysUrl);
    expect(missing.code).toBe(1);
    expect(missing.out).toContain(`no published public key has key_id ${signer.keyId}`);

    keysBody = { keys: [{ key_id: signer.keyId, public_key: other.publicKey }] }; // a label on the wrong key
    expect((await cli(good, '--keys-url', keysUrl)).code).toBe(1);

    const down = await cli(good, '--keys-url', keysUrl.replace('/api/audit/keys', '/nope'));
    expect(down.code).toBe(1);
    expect(down.out).toMatch(/cannot fetch the public key .*404/);
  });

  it('exits 1 on a missing file and 2 on bad usage', async () => {
    expect((await cli(join(dir, 'nope.csv'))).code).toBe(1);
    expect((await cli()).code).toBe(2);
    expect((await cli(good, '--bogus')).code).toBe(2);
    expect((await cli(good, 'extra')).code).toBe(2);
    expect((await cli(good, '--public-key', 'x', '--keys-url', 'y')).code).toBe(2);
  });
});

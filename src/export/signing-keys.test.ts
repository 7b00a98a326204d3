import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../lib/clock.js';
import { migrate } from '../store/migrator.js';
import { openDatabase } from '../store/open-database.js';
import type { SqlDatabase } from '../store/sql-database.js';
import { BACKENDS, freshDatabaseUrl } from '../../test/support/backends.js';
import type { TestDatabase } from '../../test/support/backends.js';
import { keyIdFor } from './ed25519-keys.js';
import { manifestSignatureMatches, signManifest } from './manifest-signing.js';
import { SigningKeyError, SigningKeys } from './signing-keys.js';
import { KeyUnwrapError, unwrapKey, wrapKey } from '../lib/sealed-box.js';

const SECRET = 'signing-keys-test-secret-0123456789abcdef';

describe('key wrapping', () => {
  it('round-trips, and fails on a wrong secret, a moved ciphertext or a flipped bit', () => {
    const wrapped = wrapKey(Buffer.alloc(32, 5), SECRET, 'k1');
    expect(wrapped).toMatch(/^v1\.[\w-]{22}\.[\w-]{16}\.[\w-]{43}\.[\w-]{22}$/);
    expect(unwrapKey(wrapped, SECRET, 'k1')).toEqual(Buffer.alloc(32, 5));
    expect(() => unwrapKey(wrapped, `${SECRET}x`, 'k1')).toThrow(KeyUnwrapError);
    expect(() => unwrapKey(wrapped, SECRET, 'k2')).toThrow(KeyUnwrapError);
    const parts = wrapped.split('.');
    parts[3] = (parts[3]![0] === 'A' ? 'B' : 'A') + parts[3]!.slice(1);
    expect(() => unwrapKey(parts.join('.'), SECRET, 'k1')).toThrow(KeyUnwrapError);
    expect(() => unwrapKey('v0.x', SECRET, 'k1')).toThrow(/format/);
  });
});

for (const backend of BACKENDS) {
  describe(`SigningKeys (${backend})`, () => {
    let tdb: TestDatabase;
    let db: SqlDatabase;
    let clock: ManualClock;

    beforeEach(async () => {
      tdb = await freshDatabaseUrl(backend);
      db = await openDatabase(tdb.url);
      clock = new ManualClock();
      await migrate(db, () => clock.now());
    });

    afterEach(async () => {
      await db.close();
      await tdb.cleanup();
    });

    const keys = (secret = SECRET): SigningKeys => new SigningKeys(db, secret, () => clock.now());

    it('creates a key on first use and then keeps returning it', async () => {
      expect(await keys().list()).toEqual([]);
      const first = await keys().current();
      expect(first.keyId).toBe(keyIdFor(first.publicKey));
      expect(first.keyId).toMatch(/^[0-9a-f]{16}$/);
      expect(Buffer.from(first.publicKey, 'base64url')).toHaveLength(32);
      const again = await keys().current();
      expect(again.keyId).toBe(first.keyId);
      const sig = signManifest(again.privateKey, Buffer.from('x'));
      expect(manifestSignatureMatches(first.publicKey, Buffer.from('x'), sig)).toBe(true);
      expect(await keys().list()).toEqual([{ key_id: first.keyId, algorithm: 'Ed25519', public_key: first.publicKey, status: 'current', created_at: clock.now(), retired_at: null }]);
    });

    it('makes exactly one key when many callers race for the first', async () => {
      const got = await Promise.all(Array.from({ length: 8 }, () => keys().current()));
      expect(new Set(got.map((k) => k.keyId)).size).toBe(1);
      expect(await keys().list()).toHaveLength(1);
    });

    it('stores the private key only encrypted', async () => {
      const key = await keys().current();
      const row = await db.get<{ private_key_enc: string }>('SELECT private_key_enc FROM signing_keys WHERE key_id = ?', [key.keyId]);
      const seed = key.privateKey.export({ format: 'jwk' }).d!;
      expect(row!.private_key_enc).toMatch(/^v1\./);
      expect(row!.private_key_enc).not.toContain(seed);
    });

    it('rotates: the old key is retired but still listed, the new one signs', async () => {
      const old = await keys().current();
      clock.advance(60_000);
      const fresh = await keys().rotate();
      expect(fresh.keyId).not.toBe(old.keyId);
      expect((await keys().current()).keyId).toBe(fresh.keyId);
      const listed = await keys().list();
      expect(listed.map((k) => [k.key_id, k.status, k.retired_at])).toEqual([
        [fresh.keyId, 'current', null],
        [old.keyId, 'retired', clock.now()],
      ]);
    });

    it('fails clearly with a wrong SECRET_KEY and never makes a new key', async () => {
      const key = await keys().current();
      const wrong = keys('a-different-secret-key-0123456789abcdef');
      await expect(wrong.current()).rejects.toThrow(SigningKeyError);
      await expect(wrong.current()).rejects.toThrow(new RegExp(`signing key ${key.keyId} cannot be decrypted.*SECRET_KEY`));
      expect((await keys().list()).map((k) => k.key_id)).toEqual([key.keyId]);
      expect((await keys().current()).keyId).toBe(key.keyId);
    });

    it('refuses a row whose public key was swapped', async () => {
      const key = await keys().current();
      const other = await keys().rotate();
      await db.run('UPDATE signing_keys SET public_key = ? WHERE key_id = ?', [`${key.publicKey.slice(0, -2)}AA`, other.keyId]);
      await expect(keys().current()).rejects.toThrow(/does not match its stored public key/);
    });
  });
}

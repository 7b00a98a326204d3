import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/** Domain label of the wrapping key: a key derived for this use serves no other. */
const HKDF_INFO = 'trailmark:signing-key-wrap:v1';
const VERSION = 'v1';

/**
 * Encrypts key material under SECRET_KEY: AES-256-GCM with a 256-bit key from
 * HKDF-SHA256(ikm = UTF-8 SECRET_KEY, salt = 16 random bytes, info = HKDF_INFO), a 12-byte
 * random IV, and `aad` (the key id) as associated data so a ciphertext cannot be moved to
 * another row. HKDF rather than scrypt because SECRET_KEY is a random secret of 32+
 * characters, not a password: stretching adds nothing but start-up time.
 * Format: `v1.<salt>.<iv>.<ciphertext>.<tag>`, each part base64url.
 */
export function wrapKey(plaintext: Uint8Array, secretKey: string, aad: string): string {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', deriveKey(secretKey, salt), iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return [VERSION, salt, iv, ciphertext, cipher.getAuthTag()].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.');
}

/** Decrypts what `wrapKey` wrote; throws `KeyUnwrapError` on a wrong SECRET_KEY or any change. */
export function unwrapKey(wrapped: string, secretKey: string, aad: string): Buffer {
  const parts = wrapped.split('.');
  if (parts.length !== 5 || parts[0] !== VERSION) throw new KeyUnwrapError('the stored key is not in a format this version can read');
  const [salt, iv, ciphertext, tag] = parts.slice(1).map((p) => Buffer.from(p, 'base64url')) as [Buffer, Buffer, Buffer, Buffer];
  try {
    const decipher = createDecipheriv('aes-256-gcm', deriveKey(secretKey, salt), iv);
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch {
    throw new KeyUnwrapError('the stored key cannot be decrypted with this SECRET_KEY');
  }
}

export class KeyUnwrapError extends Error {
  override readonly name = 'KeyUnwrapError';
}

function deriveKey(secretKey: string, salt: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(secretKey, 'utf8'), salt, HKDF_INFO, 32));
}

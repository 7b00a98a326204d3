import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

/** Base64url without padding, the only encoding the export format uses for key material. */
export const toBase64url = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64url');

/**
 * Strict base64url decoding: refuses padding, stray characters and non-canonical trailing
 * bits, which Node's lenient decoder would otherwise accept — two different strings must
 * never verify as the same signature.
 */
export function fromBase64urlStrict(text: string): Buffer | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return null;
  const bytes = Buffer.from(text, 'base64url');
  return bytes.toString('base64url') === text ? bytes : null;
}

/** The raw 32-byte Ed25519 public key of a key object, base64url. */
export function rawPublicKey(key: KeyObject): string {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') throw new TypeError('not an Ed25519 key');
  return jwk.x;
}

/** A public key object from the raw 32 bytes (base64url), or null when it is not one. */
export function publicKeyFromRaw(publicKeyB64url: string): KeyObject | null {
  const raw = fromBase64urlStrict(publicKeyB64url);
  if (!raw || raw.length !== 32) return null;
  try {
    return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: publicKeyB64url }, format: 'jwk' });
  } catch {
    return null;
  }
}

/** A private key object from its 32-byte seed (RFC 8032 "private key"). */
export function privateKeyFromSeed(seed: Uint8Array): KeyObject {
  if (seed.length !== 32) throw new TypeError('an Ed25519 seed is 32 bytes');
  // PKCS#8 wrapping of a raw Ed25519 seed (RFC 8410): fixed 16-byte prefix + seed.
  const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]);
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
}

/** The 32-byte seed of an Ed25519 private key object. */
export function seedOf(key: KeyObject): Buffer {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.crv !== 'Ed25519' || typeof jwk.d !== 'string') throw new TypeError('not an Ed25519 private key');
  return Buffer.from(jwk.d, 'base64url');
}

/** `key_id`: the first 16 hex digits of SHA-256 over the raw 32-byte public key. */
export function keyIdFor(publicKeyB64url: string): string {
  return createHash('sha256').update(Buffer.from(publicKeyB64url, 'base64url')).digest('hex').slice(0, 16);
}

import { createHmac, sign, timingSafeEqual, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { fromBase64urlStrict, publicKeyFromRaw, toBase64url } from './ed25519-keys.js';
import { MANIFEST_HMAC_LABEL } from './export-format.js';

/** The Ed25519 key that signs manifests, with the id published beside its public key. */
export interface ManifestSigner {
  readonly keyId: string;
  readonly privateKey: KeyObject;
}

/**
 * `K = HMAC-SHA256(key = UTF-8 SECRET_KEY, message = "trailmark:export-manifest:v1")`: a key
 * used for nothing else, so a manifest HMAC can never be replayed as another HMAC of ours.
 */
export function manifestHmacKey(secretKey: string): Buffer {
  return createHmac('sha256', Buffer.from(secretKey, 'utf8')).update(MANIFEST_HMAC_LABEL, 'ascii').digest();
}

/** Lowercase hex of `HMAC-SHA256(K, signed_bytes)`. */
export function manifestHmac(secretKey: string, signedBytes: Uint8Array): string {
  return createHmac('sha256', manifestHmacKey(secretKey)).update(signedBytes).digest('hex');
}

/** Constant-time check of a stated HMAC; anything but 64 lowercase hex digits is refused. */
export function manifestHmacMatches(secretKey: string, signedBytes: Uint8Array, stated: string): boolean {
  if (!/^[0-9a-f]{64}$/.test(stated)) return false;
  return timingSafeEqual(Buffer.from(manifestHmac(secretKey, signedBytes), 'hex'), Buffer.from(stated, 'hex'));
}

/** base64url (no padding) of the Ed25519 signature of `signed_bytes`. */
export function signManifest(privateKey: KeyObject, signedBytes: Uint8Array): string {
  return toBase64url(sign(null, signedBytes, privateKey));
}

/** Whether `signature` is a valid Ed25519 signature of `signed_bytes` by the raw public key. */
export function manifestSignatureMatches(publicKeyB64url: string, signedBytes: Uint8Array, signature: string): boolean {
  const key = publicKeyFromRaw(publicKeyB64url);
  const sig = fromBase64urlStrict(signature);
  if (!key || !sig || sig.length !== 64) return false;
  return verify(null, signedBytes, key, sig);
}

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A random URL-safe secret of `bytes` bytes of entropy. */
export const randomSecret = (bytes = 32): string => randomBytes(bytes).toString('base64url');

/** SHA-256 hex: enough for high-entropy secrets (session ids, API tokens), not for passwords. */
export const sha256Hex = (value: string): string => createHash('sha256').update(value, 'utf8').digest('hex');

export function safeEqual(a: string, b: string): boolean {
  const ba = Buffer.from(a);
  const bb = Buffer.from(b);
  return ba.length === bb.length && timingSafeEqual(ba, bb);
}

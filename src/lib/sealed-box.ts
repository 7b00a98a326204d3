import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * The one AES-256-GCM helper for data sealed under SECRET_KEY. The 256-bit key comes from
 * HKDF-SHA256(ikm = UTF-8 SECRET_KEY, salt, info = the purpose label), so each purpose has its
 * own key and a value sealed for one purpose cannot be opened as another. `aad` (associated
 * data, e.g. a row id) is authenticated but not stored, so a sealed value cannot be moved to
 * another row; the empty string means no associated data (GCM treats both the same).
 * HKDF rather than scrypt because SECRET_KEY is a random secret of 32+ characters, not a
 * password: stretching adds nothing but start-up time.
 *
 * Two layouts, both written and read byte for byte as before this module existed, so values
 * already stored in deployments keep opening (and an older release can still read new ones):
 * - `short`: `v1.<iv>.<tag>.<ciphertext>`, HKDF salt empty (alert-rule URLs, headers, secrets);
 * - `salted`: `v1.<salt>.<iv>.<ciphertext>.<tag>`, a random 16-byte HKDF salt per value (export
 *   signing keys). Every part is base64url; the IV is 12 random bytes.
 */
export type SealLayout = 'short' | 'salted';

export interface SealPurpose {
  /** HKDF info label; never reuse one for a different purpose. */
  readonly info: string;
  readonly layout: SealLayout;
}

export const ALERT_RULE_SECRETS: SealPurpose = { info: 'trailmark:alert-rule-secrets:v1', layout: 'short' };
export const SIGNING_KEY_WRAP: SealPurpose = { info: 'trailmark:signing-key-wrap:v1', layout: 'salted' };

/** Thrown by `open`: `format` for text that is not a sealed value, `key` for a wrong SECRET_KEY, purpose or AAD, or any change. */
export class SealOpenError extends Error {
  override readonly name: string = 'SealOpenError';
  constructor(readonly reason: 'format' | 'key', message: string) {
    super(message);
  }
}

const VERSION = 'v1';

export class SealedBox {
  /** Key of the `short` layout, derived once (its salt is fixed). */
  private readonly fixedKey: Buffer | null;

  constructor(private readonly secretKey: string, private readonly purpose: SealPurpose) {
    this.fixedKey = purpose.layout === 'short' ? this.derive(Buffer.alloc(0)) : null;
  }

  seal(plaintext: Uint8Array | string, aad = ''): string {
    const data = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
    const iv = randomBytes(12);
    const salt = this.fixedKey ? null : randomBytes(16);
    const cipher = createCipheriv('aes-256-gcm', this.fixedKey ?? this.derive(salt!), iv);
    if (aad !== '') cipher.setAAD(Buffer.from(aad, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(data), cipher.final()]);
    const tag = cipher.getAuthTag();
    const parts = salt ? [salt, iv, ciphertext, tag] : [iv, tag, ciphertext];
    return [VERSION, ...parts.map((p) => p.toString('base64url'))].join('.');
  }

  open(sealed: string, aad = ''): Buffer {
    const parts = sealed.split('.');
    const expected = this.fixedKey ? 4 : 5;
    if (parts.length !== expected || parts[0] !== VERSION || parts.slice(1).some((p) => !/^[\w-]*$/.test(p))) {
      throw new SealOpenError('format', 'the sealed value is not in a format this version can read');
    }
    const [a, b, c, d] = parts.slice(1).map((p) => Buffer.from(p, 'base64url'));
    const [salt, iv, ciphertext, tag] = this.fixedKey ? [null, a!, c!, b!] : [a!, b!, c!, d!];
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.fixedKey ?? this.derive(salt!), iv);
      if (aad !== '') decipher.setAAD(Buffer.from(aad, 'utf8'));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
    } catch {
      throw new SealOpenError('key', 'the sealed value cannot be opened with this SECRET_KEY');
    }
  }

  openText(sealed: string, aad = ''): string {
    return this.open(sealed, aad).toString('utf8');
  }

  private derive(salt: Buffer): Buffer {
    return Buffer.from(hkdfSync('sha256', Buffer.from(this.secretKey, 'utf8'), salt, this.purpose.info, 32));
  }
}

/** Export signing keys: seal key material under SECRET_KEY with the key id as associated data. */
export function wrapKey(plaintext: Uint8Array, secretKey: string, aad: string): string {
  return new SealedBox(secretKey, SIGNING_KEY_WRAP).seal(plaintext, aad);
}

/** Opens what `wrapKey` wrote; throws `KeyUnwrapError` on a wrong SECRET_KEY or key id, or any change. */
export function unwrapKey(wrapped: string, secretKey: string, aad: string): Buffer {
  try {
    return new SealedBox(secretKey, SIGNING_KEY_WRAP).open(wrapped, aad);
  } catch (err) {
    if (!(err instanceof SealOpenError)) throw err;
    throw new KeyUnwrapError(err.reason, err.reason === 'format' ? 'the stored key is not in a format this version can read' : 'the stored key cannot be decrypted with this SECRET_KEY');
  }
}

export class KeyUnwrapError extends SealOpenError {
  override readonly name: string = 'KeyUnwrapError';
}

import { generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { AppError } from '../lib/errors.js';
import type { SqlDatabase } from '../store/sql-database.js';
import { keyIdFor, privateKeyFromSeed, rawPublicKey, seedOf } from './ed25519-keys.js';
import { KeyUnwrapError, unwrapKey, wrapKey } from '../lib/sealed-box.js';
import type { ManifestSigner } from './manifest-signing.js';
import type { SigningKeyRow } from './signing-key.store.js';
import { SigningKeyStore } from './signing-key.store.js';

/** The current key with its private half, ready to sign. */
export interface SigningKey extends ManifestSigner {
  readonly keyId: string;
  /** Raw 32-byte Ed25519 public key, base64url. */
  readonly publicKey: string;
  readonly privateKey: KeyObject;
  readonly createdAt: number;
}

/** A key as `GET /api/audit/keys` publishes it: never any private material. */
export interface PublicSigningKey {
  readonly key_id: string;
  readonly algorithm: 'Ed25519';
  readonly public_key: string;
  readonly status: 'current' | 'retired';
  readonly created_at: number;
  readonly retired_at: number | null;
}

/** The signing key cannot be used: a changed SECRET_KEY or a damaged row. Never answered with a new key. */
export class SigningKeyError extends AppError {
  constructor(message: string) {
    super('internal', message);
    this.name = 'SigningKeyError';
  }
}

/**
 * Ed25519 keys that sign export manifests. Invariants: a key is created only when no
 * current key exists — a key that fails to decrypt is an error, never a reason to make a new
 * one (that would silently orphan the old exports' trust); retired keys stay listed so old
 * exports keep verifying; private keys are stored only encrypted (see lib/sealed-box.ts).
 */
export class SigningKeys {
  private readonly store: SigningKeyStore;

  constructor(
    db: SqlDatabase,
    private readonly secretKey: string,
    private readonly now: () => number,
  ) {
    this.store = new SigningKeyStore(db);
  }

  /** The current key, created on first use. Safe when several nodes call it at once. */
  async current(): Promise<SigningKey> {
    const existing = await this.store.findCurrent();
    if (existing) return this.open(existing);
    const fresh = this.generate();
    try {
      await this.store.insertCurrent(fresh.row);
      return fresh.key;
    } catch (err) {
      // Another node created the current key between our read and insert: use theirs.
      const winner = await this.store.findCurrent();
      if (!winner) throw err;
      return this.open(winner);
    }
  }

  /** Retires the current key and makes a new one current; returns the new key. */
  async rotate(): Promise<SigningKey> {
    const fresh = this.generate();
    await this.store.replaceCurrent(fresh.row, this.now());
    return fresh.key;
  }

  /** Every key's public half, current first. */
  async list(): Promise<PublicSigningKey[]> {
    return (await this.store.listAll()).map((r) => ({
      key_id: r.key_id,
      algorithm: 'Ed25519',
      public_key: r.public_key,
      status: r.retired_at === null ? 'current' : 'retired',
      created_at: Number(r.created_at),
      retired_at: r.retired_at === null ? null : Number(r.retired_at),
    }));
  }

  private generate(): { row: SigningKeyRow; key: SigningKey } {
    const { privateKey } = generateKeyPairSync('ed25519');
    const publicKey = rawPublicKey(privateKey);
    const keyId = keyIdFor(publicKey);
    const createdAt = this.now();
    return {
      row: { key_id: keyId, public_key: publicKey, private_key_enc: wrapKey(seedOf(privateKey), this.secretKey, keyId), created_at: createdAt, retired_at: null },
      key: { keyId, publicKey, privateKey, createdAt },
    };
  }

  private open(row: SigningKeyRow): SigningKey {
    let seed: Buffer;
    try {
      seed = unwrapKey(row.private_key_enc, this.secretKey, row.key_id);
    } catch (err) {
      if (!(err instanceof KeyUnwrapError)) throw err;
      throw new SigningKeyError(
        `The export signing key ${row.key_id} cannot be decrypted: ${err.message}. SECRET_KEY must be the one the key was created with; restore it (or rotate the key deliberately) to sign exports again.`,
      );
    }
    const privateKey = privateKeyFromSeed(seed);
    if (rawPublicKey(privateKey) !== row.public_key || keyIdFor(row.public_key) !== row.key_id) {
      throw new SigningKeyError(`The export signing key ${row.key_id} does not match its stored public key; the signing_keys row is damaged.`);
    }
    return { keyId: row.key_id, publicKey: row.public_key, privateKey, createdAt: Number(row.created_at) };
  }
}

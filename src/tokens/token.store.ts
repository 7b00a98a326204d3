import type { Scope } from '../auth/access.js';
import { randomSecret, safeEqual, sha256Hex } from '../lib/secrets.js';
import type { SqlExecutor } from '../store/sql-database.js';

export interface TokenRecord {
  readonly id: string;
  readonly name: string;
  readonly scopes: Scope[];
  readonly created_by: string | null;
  readonly created_at: number;
  readonly revoked_at: number | null;
  readonly last_used_at: number | null;
}

interface TokenRow extends Omit<TokenRecord, 'scopes'> {
  scopes: string;
  secret_hash: string;
}

const TOKEN_PREFIX = 'tm_';
const TOUCH_INTERVAL_MS = 60_000;
/**
 * How long an authenticated token is trusted without reading its row again. Revocation on
 * this node takes effect at once (the entry is dropped); on another node sharing the
 * database, within this time.
 */
export const TOKEN_CACHE_MS = 1_000;
const TOKEN_CACHE_MAX = 10_000;
const toRecord = ({ secret_hash: _ignored, ...r }: TokenRow): TokenRecord => ({ ...r, scopes: r.scopes.split(' ').filter(Boolean) as Scope[] });
const COLUMNS = 'id, name, scopes, secret_hash, created_by, created_at, revoked_at, last_used_at';

/**
 * API tokens: `tm_<id>.<secret>`. Only the secret's SHA-256 is stored; the whole token is
 * shown once, at creation.
 */
export class TokenStore {
  /** Recently authenticated tokens by presented value (a busy worker sends one per request). */
  private readonly recent = new Map<string, { record: TokenRecord; until: number }>();

  constructor(private readonly db: SqlExecutor) {}

  /** Stores a new token with a fresh secret; `id` is chosen by the caller so it can be audited first. */
  async create(tx: SqlExecutor, id: string, name: string, scopes: readonly Scope[], createdBy: string | null, now: number): Promise<{ record: TokenRecord; token: string }> {
    const secret = randomSecret(32);
    await tx.run('INSERT INTO api_tokens (id, name, secret_hash, scopes, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)', [
      id, name, sha256Hex(secret), scopes.join(' '), createdBy, now,
    ]);
    return {
      record: { id, name, scopes: [...scopes], created_by: createdBy, created_at: now, revoked_at: null, last_used_at: null },
      token: `${TOKEN_PREFIX}${id}.${secret}`,
    };
  }

  /** The live token for a presented bearer value, or undefined. */
  async authenticate(presented: string, now: number): Promise<TokenRecord | undefined> {
    const cached = this.recent.get(presented);
    if (cached && now < cached.until && now >= cached.until - TOKEN_CACHE_MS) return cached.record;
    const m = /^tm_([0-9a-f-]{36})\.([A-Za-z0-9_-]{20,100})$/.exec(presented);
    if (!m) return undefined;
    const row = await this.db.get<TokenRow>(`SELECT ${COLUMNS} FROM api_tokens WHERE id = ?`, [m[1]!]);
    if (!row || row.revoked_at !== null || !safeEqual(row.secret_hash, sha256Hex(m[2]!))) {
      this.recent.delete(presented);
      return undefined;
    }
    if (row.last_used_at === null || now - row.last_used_at > TOUCH_INTERVAL_MS) {
      await this.db.run('UPDATE api_tokens SET last_used_at = ? WHERE id = ?', [now, row.id]);
    }
    const record = toRecord(row);
    if (this.recent.size >= TOKEN_CACHE_MAX) this.recent.clear();
    this.recent.set(presented, { record, until: now + TOKEN_CACHE_MS });
    return record;
  }

  /** Drops a token from the authentication cache (called on revocation, before and after commit). */
  forget(id: string): void {
    for (const [presented, { record }] of this.recent) if (record.id === id) this.recent.delete(presented);
  }

  async byId(id: string): Promise<TokenRecord | undefined> {
    const row = await this.db.get<TokenRow>(`SELECT ${COLUMNS} FROM api_tokens WHERE id = ?`, [id]);
    return row && toRecord(row);
  }

  async list(): Promise<TokenRecord[]> {
    return (await this.db.all<TokenRow>(`SELECT ${COLUMNS} FROM api_tokens ORDER BY created_at DESC`)).map(toRecord);
  }

  async revoke(tx: SqlExecutor, id: string, now: number): Promise<boolean> {
    this.forget(id);
    return (await tx.run('UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', [now, id])) > 0;
  }
}

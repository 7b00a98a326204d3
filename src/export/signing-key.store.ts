import type { SqlDatabase } from '../store/sql-database.js';

/** A `signing_keys` row as stored. */
export interface SigningKeyRow {
  readonly key_id: string;
  readonly public_key: string;
  readonly private_key_enc: string;
  readonly created_at: number;
  readonly retired_at: number | null;
}

const COLUMNS = 'key_id, public_key, private_key_enc, created_at, retired_at';

/**
 * The `signing_keys` table. Invariant, held by a unique `current_slot` column rather than
 * by code: at most one key is current (not retired), even when several nodes race to
 * create or rotate one.
 */
export class SigningKeyStore {
  constructor(private readonly db: SqlDatabase) {}

  async findCurrent(): Promise<SigningKeyRow | undefined> {
    return this.db.get<SigningKeyRow>(`SELECT ${COLUMNS} FROM signing_keys WHERE current_slot = 1`);
  }

  /** Every key, current first then newest retired first. */
  async listAll(): Promise<SigningKeyRow[]> {
    return this.db.all<SigningKeyRow>(`SELECT ${COLUMNS} FROM signing_keys ORDER BY current_slot IS NULL, created_at DESC, key_id`);
  }

  /** Stores a new current key; fails (unique `current_slot`) when another node made one first. */
  async insertCurrent(row: SigningKeyRow): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.run(`INSERT INTO signing_keys (${COLUMNS}, current_slot) VALUES (?, ?, ?, ?, NULL, 1)`, [row.key_id, row.public_key, row.private_key_enc, row.created_at]);
    });
  }

  /** Retires the current key (if any) and stores `row` as current, in one transaction. */
  async replaceCurrent(row: SigningKeyRow, retiredAt: number): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.run('UPDATE signing_keys SET current_slot = NULL, retired_at = ? WHERE current_slot = 1', [retiredAt]);
      await tx.run(`INSERT INTO signing_keys (${COLUMNS}, current_slot) VALUES (?, ?, ?, ?, NULL, 1)`, [row.key_id, row.public_key, row.private_key_enc, row.created_at]);
    });
  }
}

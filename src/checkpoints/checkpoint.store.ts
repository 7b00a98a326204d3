import type { SqlDatabase, SqlExecutor } from '../store/sql-database.js';
import type { CheckpointStatement, StoredCheckpoint } from './checkpoint.js';

interface Row {
  seq: number; hash: string; statement: string; key_id: string; signature: string; created_at: number;
}
const toCheckpoint = (r: Row): StoredCheckpoint => ({ ...r, statement: JSON.parse(r.statement) as CheckpointStatement });

/** Signed checkpoints of the chain head. */
export class CheckpointStore {
  constructor(private readonly db: SqlDatabase) {}

  async latest(): Promise<StoredCheckpoint | undefined> {
    const row = await this.db.get<Row>('SELECT seq, hash, statement, key_id, signature, created_at FROM checkpoints ORDER BY seq DESC LIMIT 1');
    return row && toCheckpoint(row);
  }

  /** Checkpoints newest first, optionally only those above a seq (retention anchor). */
  async list(limit: number, aboveSeq = 0): Promise<StoredCheckpoint[]> {
    return (await this.db.all<Row>('SELECT seq, hash, statement, key_id, signature, created_at FROM checkpoints WHERE seq > ? ORDER BY seq DESC LIMIT ?', [aboveSeq, limit])).map(toCheckpoint);
  }

  async insert(tx: SqlExecutor, c: StoredCheckpoint, statementJson: string): Promise<void> {
    await tx.run('INSERT INTO checkpoints (seq, hash, statement, key_id, signature, created_at) VALUES (?, ?, ?, ?, ?, ?)', [c.seq, c.hash, statementJson, c.key_id, c.signature, c.created_at]);
  }
}

import { canonicalJson } from '../chain/canonical-json.js';

export const CHECKPOINT_FORMAT = 'trailmark-checkpoint/1';

/** What a checkpoint signs: the chain head at a moment, under a key. */
export interface CheckpointStatement {
  readonly format: typeof CHECKPOINT_FORMAT;
  readonly tenant: string;
  readonly seq: number;
  readonly hash: string;
  /** When the head entry was recorded (ISO 8601 UTC). */
  readonly head_ts: string;
  /** When the statement was signed (ISO 8601 UTC). */
  readonly issued_at: string;
  readonly key_id: string;
}

/** The bytes signed: canonical JSON of the statement. */
export const statementBytes = (s: CheckpointStatement): Buffer => Buffer.from(canonicalJson(s), 'utf8');

export interface StoredCheckpoint {
  readonly seq: number;
  readonly hash: string;
  readonly statement: CheckpointStatement;
  readonly key_id: string;
  readonly signature: string;
  readonly created_at: number;
}

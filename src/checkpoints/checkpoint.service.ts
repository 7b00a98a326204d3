import type { AuditRecorder } from '../audit/audit-recorder.js';
import type { AuditStore } from '../audit/audit.store.js';
import { canonicalJson } from '../chain/canonical-json.js';
import type { SigningKeys } from '../export/signing-keys.js';
import { manifestSignatureMatches, signManifest } from '../export/manifest-signing.js';
import type { Clock } from '../lib/clock.js';
import type { SqlDatabase } from '../store/sql-database.js';
import type { CheckpointStatement, StoredCheckpoint } from './checkpoint.js';
import { CHECKPOINT_FORMAT, statementBytes } from './checkpoint.js';
import type { CheckpointStore } from './checkpoint.store.js';

/**
 * Signed checkpoints: an Ed25519-signed statement of the chain head (seq, hash, time, key id),
 * stored and published as an `audit.checkpoint` entry — so it reaches stdout and every webhook
 * rule subscribed to it. Someone who later deletes the newest entries and rewrites the head
 * cannot make the published checkpoints agree with the stored chain.
 */
export class CheckpointService {
  constructor(
    private readonly deps: { db: SqlDatabase; store: CheckpointStore; audit: AuditStore; recorder: AuditRecorder; keys: SigningKeys; clock: Clock; tenant: () => Promise<string> },
  ) {}

  /** Signs the head when entries other than checkpoints arrived since the last one; else null. */
  async takeIfGrown(): Promise<StoredCheckpoint | null> {
    const { db, store, audit, recorder, keys, clock } = this.deps;
    const last = await store.latest();
    const grown = await db.get<{ x: number }>("SELECT 1 AS x FROM audit_entries WHERE seq > ? AND action <> 'audit.checkpoint' LIMIT 1", [last?.seq ?? 0]);
    if (!grown) return null;
    const { head } = await audit.chainState();
    const key = await keys.current();
    const statement: CheckpointStatement = {
      format: CHECKPOINT_FORMAT,
      tenant: await this.deps.tenant(),
      seq: head.seq,
      hash: head.hash,
      head_ts: new Date(head.ts).toISOString(),
      issued_at: new Date(clock.now()).toISOString(),
      key_id: key.keyId,
    };
    const signature = signManifest(key.privateKey, statementBytes(statement));
    const checkpoint: StoredCheckpoint = { seq: head.seq, hash: head.hash, statement, key_id: key.keyId, signature, created_at: clock.now() };
    await recorder.record(
      {
        action: 'audit.checkpoint',
        actor: { type: 'system', id: 'system', name: 'system' },
        resource: { id: 'audit_log', name: 'audit log' },
        details: { seq: head.seq, hash: head.hash, key_id: key.keyId, signature, statement },
      },
      (tx) => store.insert(tx, checkpoint, canonicalJson(statement)),
    );
    return checkpoint;
  }

  list(limit: number, aboveSeq?: number): Promise<StoredCheckpoint[]> {
    return this.deps.store.list(limit, aboveSeq);
  }

  /** Checkpoints above the anchor whose signature verifies under a published key. */
  async verifiedAbove(anchorSeq: number): Promise<{ valid: StoredCheckpoint[]; forged: StoredCheckpoint[] }> {
    const published = new Map((await this.deps.keys.list()).map((k) => [k.key_id, k.public_key]));
    const all = await this.deps.store.list(1_000_000, anchorSeq);
    const valid: StoredCheckpoint[] = [];
    const forged: StoredCheckpoint[] = [];
    for (const c of all) {
      const pub = published.get(c.key_id);
      const ok = pub !== undefined && c.statement.seq === c.seq && c.statement.hash === c.hash && manifestSignatureMatches(pub, statementBytes(c.statement), c.signature);
      (ok ? valid : forged).push(c);
    }
    return { valid, forged };
  }
}

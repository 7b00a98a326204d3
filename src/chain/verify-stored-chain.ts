import type { AuditStore } from '../audit/audit.store.js';
import type { ChainAnchor, ChainVerification } from './chain-verifier.js';
import { ChainVerifier } from './chain-verifier.js';

export interface VerifyOptions {
  /** Signed checkpoints (seq, hash) the stored chain must agree with; their signatures already checked. */
  readonly checkpoints?: readonly ChainAnchor[];
  readonly onProgress?: (checked: number) => void;
}

/**
 * Re-walks the stored chain from its anchor to its head. Reports the first bad seq for an
 * edited, deleted, inserted or reordered row, for removed newest entries (the head says
 * more exist, or a signed checkpoint covers entries that are gone) and for rows stored
 * beyond the head.
 */
export async function verifyStoredChain(store: AuditStore, options: VerifyOptions | ((checked: number) => void) = {}): Promise<ChainVerification> {
  const { checkpoints = [], onProgress } = typeof options === 'function' ? { onProgress: options } : options;
  const { head, anchor, maxStoredSeq } = await store.chainState();
  const expected = new Map(checkpoints.filter((c) => c.seq > anchor.seq).map((c) => [c.seq, c.hash]));
  const verifier = new ChainVerifier(anchor);
  let n = 0;
  let checkpointMismatch: { seq: number; reason: string } | null = null;
  for await (const entry of store.iterate({}, { toSeq: head.seq })) {
    if (entry.seq <= anchor.seq) continue;
    if (!verifier.push(entry)) break;
    const signed = expected.get(entry.seq);
    if (signed !== undefined && signed !== entry.hash) {
      checkpointMismatch = { seq: entry.seq, reason: `entry differs from the signed checkpoint at seq ${entry.seq}` };
      break;
    }
    if (onProgress && ++n % 100_000 === 0) onProgress(n);
  }
  const result = verifier.finish(head);
  if (result.ok && checkpointMismatch) return { ...result, ok: false, first_bad_seq: checkpointMismatch.seq, reason: checkpointMismatch.reason };
  const lastSigned = Math.max(0, ...expected.keys());
  if (result.ok && lastSigned > (result.to_seq ?? anchor.seq)) {
    const from = (result.to_seq ?? anchor.seq) + 1;
    return { ...result, ok: false, first_bad_seq: from, reason: `a signed checkpoint covers seq ${lastSigned}, but the stored chain ends at ${from - 1}: newest entries were removed` };
  }
  if (result.ok && maxStoredSeq !== null && maxStoredSeq > head.seq) {
    return { ...result, ok: false, first_bad_seq: head.seq + 1, reason: `entries up to seq ${maxStoredSeq} are stored beyond the chain head (${head.seq})` };
  }
  return result;
}

import type { AuditStore } from '../audit/audit.store.js';
import type { ChainVerification } from './chain-verifier.js';
import { ChainVerifier } from './chain-verifier.js';

/**
 * Re-walks the stored chain from its anchor to its head. Reports the first bad seq for an
 * edited, deleted, inserted or reordered row, for removed newest entries (the head says
 * more exist) and for rows stored beyond the head.
 */
export async function verifyStoredChain(store: AuditStore, onProgress?: (checked: number) => void): Promise<ChainVerification> {
  const { head, anchor, maxStoredSeq } = await store.chainState();
  const verifier = new ChainVerifier(anchor);
  let n = 0;
  for await (const entry of store.iterate({}, { toSeq: head.seq })) {
    if (entry.seq <= anchor.seq) continue;
    if (!verifier.push(entry)) break;
    if (onProgress && ++n % 100_000 === 0) onProgress(n);
  }
  const result = verifier.finish(head);
  if (result.ok && maxStoredSeq !== null && maxStoredSeq > head.seq) {
    return { ...result, ok: false, first_bad_seq: head.seq + 1, reason: `entries up to seq ${maxStoredSeq} are stored beyond the chain head (${head.seq})` };
  }
  return result;
}

import type { AuditStore } from '../audit/audit.store.js';
import type { ChainVerification } from '../chain/chain-verifier.js';
import { verifyStoredChain } from '../chain/verify-stored-chain.js';
import type { CheckpointService } from './checkpoint.service.js';

/**
 * The full check of the stored trail: the chain itself, and every retained signed checkpoint
 * (a checkpoint whose signature fails is itself reported as tampering).
 */
export async function verifyChainWithCheckpoints(store: AuditStore, checkpoints: CheckpointService, onProgress?: (n: number) => void): Promise<ChainVerification> {
  const { anchor } = await store.chainState();
  const { valid, forged } = await checkpoints.verifiedAbove(anchor.seq);
  const result = await verifyStoredChain(store, { checkpoints: valid, onProgress });
  const firstForged = forged.sort((a, b) => a.seq - b.seq)[0];
  if (result.ok && firstForged) return { ...result, ok: false, first_bad_seq: firstForged.seq, reason: `the checkpoint at seq ${firstForged.seq} does not carry a valid signature of a published key` };
  return result;
}

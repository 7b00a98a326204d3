import { createHash, hash } from 'node:crypto';
import { exportGenesis } from './export-format.js';

/** Rows longer than this are hashed the slow way; real rows are far shorter. */
const SCRATCH_BYTES = 64 * 1024;

/**
 * The export's row chain: `h_i = SHA-256(h_{i-1} ‖ content_i)` over raw 32-byte hashes,
 * starting at the export genesis. Writer and verifier share it so they cannot drift.
 *
 * Each step lays `h_{i-1} ‖ content_i` out in one reused buffer and hashes it in a single
 * call: creating a Hash object per row was a third of an export's CPU time.
 */
export class ExportChain {
  private head: Buffer = exportGenesis();
  private readonly scratch = Buffer.allocUnsafe(SCRATCH_BYTES);

  /** Adds one record's content (its bytes up to the comma before `row_hash`); returns h_i in hex. */
  next(content: string | Uint8Array): string {
    this.head.copy(this.scratch, 0);
    let used = -1;
    if (typeof content === 'string') {
      // write() stops short (at a whole character) when the buffer is full: then the row is
      // too long for the fast path, and the margin makes "full" unambiguous.
      const n = this.scratch.write(content, 32, 'utf8');
      if (32 + n < SCRATCH_BYTES - 4) used = 32 + n;
    } else if (32 + content.length <= SCRATCH_BYTES) {
      this.scratch.set(content, 32);
      used = 32 + content.length;
    }
    this.head = used >= 0 ? hash('sha256', this.scratch.subarray(0, used), 'buffer') : slowStep(this.head, content);
    return this.head.toString('hex');
  }

  /**
   * Continues from a hash the file states instead of the computed one, so one altered
   * record is reported once rather than breaking every later comparison. Sound because the
   * verifier checks every record against its predecessor's stated hash: when all checks
   * pass, the stated hashes are the true chain.
   */
  continueFrom(hex: string): void {
    this.head = Buffer.from(hex, 'hex');
  }

  /** The newest h_i (h_0 before any row), lowercase hex. */
  get headHex(): string {
    return this.head.toString('hex');
  }
}

function slowStep(prev: Buffer, content: string | Uint8Array): Buffer {
  const h = createHash('sha256').update(prev);
  if (typeof content === 'string') h.update(content, 'utf8');
  else h.update(content);
  return h.digest();
}

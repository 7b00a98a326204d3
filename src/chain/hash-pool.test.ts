import { createHash, randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { HashBatch } from './hash-pool.js';
import { HashPool, hashBatch } from './hash-pool.js';

/** A batch of `n` random segments (some empty) in memory of its own, and their SHA-256s. */
function batch(n: number): { batch: HashBatch; expected: Buffer } {
  const parts = Array.from({ length: n }, (_, i) => randomBytes(i % 5 === 0 ? 0 : 1 + (i * 37) % 900));
  const bytes = Buffer.concat(parts);
  const ends = new Uint32Array(n);
  let at = 0;
  parts.forEach((p, i) => (ends[i] = at += p.length));
  const own = new Uint8Array(new ArrayBuffer(Math.max(bytes.length, 16 * 1024)));
  own.set(bytes);
  return { batch: { bytes: own.subarray(0, bytes.length), ends }, expected: Buffer.concat(parts.map((p) => createHash('sha256').update(p).digest())) };
}

describe('HashPool', () => {
  let pool: HashPool | null = null;
  afterEach(async () => {
    await pool?.close();
    pool = null;
  });

  it('hashes every segment as createHash does, in order, across both workers, and hands the memory back', async () => {
    pool = new HashPool(2);
    const jobs = Array.from({ length: 12 }, (_, i) => batch(50 + i * 13));
    const results = await Promise.all(jobs.map((j) => pool!.hash(j.batch)));
    results.forEach((r, i) => {
      expect(r.digests.equals(jobs[i]!.expected)).toBe(true);
      expect(r.spare.byteLength).toBeGreaterThan(0);
    });
    expect(pool.threads).toHaveLength(2);
    expect(hashBatch(batch(40).batch).length).toBe(40 * 32);
  });

  it('copies small views instead of moving memory other Buffers share', async () => {
    pool = new HashPool(1);
    const small = Buffer.from('abc');
    const neighbour = Buffer.from('still here');
    const r = await pool.hash({ bytes: small, ends: Uint32Array.of(3) });
    expect(r.digests.toString('hex')).toBe(createHash('sha256').update('abc').digest('hex'));
    expect(small.toString()).toBe('abc');
    expect(neighbour.toString()).toBe('still here');
  });

  it('fails every outstanding job when a worker dies, and starts a new one for the next job', async () => {
    pool = new HashPool(1);
    const jobs = [batch(3_000), batch(3_000), batch(3_000)].map((j) => pool!.hash(j.batch));
    await pool.threads[0]!.terminate();
    // The worker is stopped before it could have started on them (starting one takes tens of ms).
    const settled = await Promise.allSettled(jobs);
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected', 'rejected']);
    for (const s of settled) expect(s.status === 'rejected' && String(s.reason)).toMatch(/hashing worker stopped/);
    const next = batch(10);
    expect((await pool.hash(next.batch)).digests.equals(next.expected)).toBe(true);
  });

  it('stops idle workers, and starts new ones for the next job', async () => {
    pool = new HashPool(2, undefined, 50);
    const first = batch(20);
    expect((await pool.hash(first.batch)).digests.equals(first.expected)).toBe(true);
    expect(pool.threads.length).toBe(2);
    await new Promise((r) => setTimeout(r, 300));
    expect(pool.threads.length).toBe(0);
    const next = batch(20);
    expect((await pool.hash(next.batch)).digests.equals(next.expected)).toBe(true);
  });

  it('fails the job when the worker throws', async () => {
    pool = new HashPool(1, `require('node:worker_threads').parentPort.on('message', () => { throw new Error('boom'); });`);
    await expect(pool.hash(batch(5).batch)).rejects.toThrow(/hashing worker failed: boom/);
  });

  it('fails the job when the worker exits without answering', async () => {
    pool = new HashPool(1, `require('node:worker_threads').parentPort.on('message', () => process.exit(3));`);
    await expect(pool.hash(batch(5).batch)).rejects.toThrow(/exit code 3/);
  });
});

import { describe, expect, it } from 'vitest';
import type { StoredEntry } from '../audit/audit-entry.js';
import type { ChainAnchor, ChainVerification } from './chain-verifier.js';
import { ChainVerifier } from './chain-verifier.js';
import type { HashableEntry } from './entry-hash.js';
import { CHAIN_GENESIS, chainHash } from './entry-hash.js';

const T0 = Date.UTC(2026, 10, 24, 12, 0, 0);
const GENESIS: ChainAnchor = { seq: 0, hash: CHAIN_GENESIS };

function hashable(seq: number): HashableEntry {
  return {
    id: `0190a1b2-0000-7000-8000-${String(seq).padStart(12, '0')}`,
    seq,
    ts: T0 + seq * 1000,
    occurred_at: seq % 3 === 0 ? null : T0 + seq * 1000 - 5,
    action: 'rotation.started',
    category: 'rotation',
    severity: 'info',
    actor: { type: 'worker', id: 'tok-1', name: seq % 2 === 0 ? null : 'rotation-worker' },
    resource: { type: 'secret', id: `sec-${seq}`, name: `sécret ${seq} 🔑` },
    description: `Rotation of sec-${seq} started`,
    detailsJson: `{"n":${seq}}`,
    source: { ip: '10.0.0.1', user_agent: null, token_id: 'tok-1' },
    request_id: `req-${seq}`,
  };
}

/** Links `count` entries after `anchor` exactly as the chain writer does. */
function buildChain(count: number, anchor: ChainAnchor = GENESIS): StoredEntry[] {
  const out: StoredEntry[] = [];
  let prev = anchor.hash;
  for (let seq = anchor.seq + 1; seq <= anchor.seq + count; seq++) {
    const e = hashable(seq);
    const hash = chainHash(prev, e);
    out.push({ ...e, prev_hash: prev, hash });
    prev = hash;
  }
  return out;
}

const headOf = (chain: readonly StoredEntry[]): ChainAnchor => ({ seq: chain[chain.length - 1]!.seq, hash: chain[chain.length - 1]!.hash });

/** Feeds entries until the verifier asks to stop, then finishes. */
function verify(entries: readonly StoredEntry[], head?: ChainAnchor, anchor: ChainAnchor = GENESIS): ChainVerification {
  const v = new ChainVerifier(anchor);
  for (const e of entries) if (!v.push(e)) break;
  return v.finish(head);
}

const replaceAt = (chain: readonly StoredEntry[], seq: number, e: StoredEntry): StoredEntry[] => chain.map((x) => (x.seq === seq ? e : x));

describe('ChainVerifier', () => {
  const chain = buildChain(8);
  const head = headOf(chain);

  it('accepts a well-linked chain and reports its extent', () => {
    expect(verify(chain, head)).toEqual({ ok: true, checked: 8, from_seq: 1, to_seq: 8, head_hash: head.hash, first_bad_seq: null, reason: null });
    expect(verify(chain)).toMatchObject({ ok: true, checked: 8 });
  });

  it('accepts an empty chain whose head is the anchor', () => {
    expect(verify([], GENESIS)).toEqual({ ok: true, checked: 0, from_seq: null, to_seq: null, head_hash: CHAIN_GENESIS, first_bad_seq: null, reason: null });
  });

  it('verifies from a retention checkpoint instead of genesis', () => {
    const full = buildChain(12);
    const anchor = { seq: 4, hash: full[3]!.hash };
    expect(verify(full.slice(4), headOf(full), anchor)).toMatchObject({ ok: true, checked: 8, from_seq: 5, to_seq: 12 });
    // From genesis the same rows start at a missing seq 1.
    expect(verify(full.slice(4), headOf(full))).toMatchObject({ ok: false, first_bad_seq: 1, reason: 'seq 1 is missing (next stored is 5)' });
  });

  it.each<[string, (e: StoredEntry) => StoredEntry]>([
    ['id', (e) => ({ ...e, id: `${e.id}x` })],
    ['ts', (e) => ({ ...e, ts: e.ts + 1 })],
    ['occurred_at', (e) => ({ ...e, occurred_at: e.occurred_at === null ? e.ts : null })],
    ['action', (e) => ({ ...e, action: 'rotation.completed' })],
    ['severity', (e) => ({ ...e, severity: 'critical' })],
    ['actor.name', (e) => ({ ...e, actor: { ...e.actor, name: 'someone else' } })],
    ['resource.id', (e) => ({ ...e, resource: { ...e.resource, id: 'sec-999' } })],
    ['description', (e) => ({ ...e, description: e.description.toUpperCase() })],
    ['details', (e) => ({ ...e, detailsJson: '{"n":-1}' })],
    ['source.ip', (e) => ({ ...e, source: { ...e.source, ip: '10.0.0.2' } })],
    ['request_id', (e) => ({ ...e, request_id: null })],
    ['hash', (e) => ({ ...e, hash: 'f'.repeat(64) })],
  ])('reports an edited %s at that entry', (_field, edit) => {
    const result = verify(replaceAt(chain, 3, edit(chain[2]!)), head);
    expect(result).toMatchObject({ ok: false, first_bad_seq: 3, checked: 2, to_seq: 2, head_hash: chain[1]!.hash });
    expect(result.reason).toBe('stored hash does not match the entry contents');
  });

  it('reports an edit that was re-hashed at the next entry, whose prev_hash no longer fits', () => {
    const edited = { ...hashable(3), description: 'nothing happened' };
    const rehashed: StoredEntry = { ...edited, prev_hash: chain[1]!.hash, hash: chainHash(chain[1]!.hash, edited) };
    expect(verify(replaceAt(chain, 3, rehashed), head)).toMatchObject({ ok: false, first_bad_seq: 4, reason: 'prev_hash does not match the hash of the previous entry' });
  });

  it('reports a wrong prev_hash even when the entry hash was computed over it', () => {
    const wrongPrev = 'ab'.repeat(32);
    const forged: StoredEntry = { ...hashable(5), prev_hash: wrongPrev, hash: chainHash(wrongPrev, hashable(5)) };
    expect(verify(replaceAt(chain, 5, forged), head)).toMatchObject({ ok: false, first_bad_seq: 5, checked: 4, reason: 'prev_hash does not match the hash of the previous entry' });
    // The first entry must link to the anchor.
    const first: StoredEntry = { ...chain[0]!, prev_hash: 'A'.repeat(64) };
    expect(verify(replaceAt(chain, 1, first), head)).toMatchObject({ ok: false, first_bad_seq: 1, checked: 0, from_seq: 1, to_seq: null });
  });

  it('reports a missing seq at the first seq that is missing', () => {
    expect(verify(chain.filter((e) => e.seq !== 4), head)).toMatchObject({ ok: false, first_bad_seq: 4, checked: 3, reason: 'seq 4 is missing (next stored is 5)' });
    expect(verify(chain.filter((e) => e.seq < 3 || e.seq > 6), head)).toMatchObject({ ok: false, first_bad_seq: 3, reason: 'seq 3 is missing (next stored is 7)' });
    expect(verify(chain.slice(1), head)).toMatchObject({ ok: false, first_bad_seq: 1, checked: 0, from_seq: 2 });
  });

  it('reports a duplicated seq at the duplicate', () => {
    const dup = [...chain.slice(0, 4), chain[3]!, ...chain.slice(4)];
    expect(verify(dup, head)).toMatchObject({ ok: false, first_bad_seq: 4, checked: 4, reason: 'seq 4 is out of order' });
  });

  it('reports entries fed out of order at the first seq that does not follow', () => {
    const swapped = [chain[0]!, chain[1]!, chain[3]!, chain[2]!, ...chain.slice(4)];
    expect(verify(swapped, head)).toMatchObject({ ok: false, first_bad_seq: 3, checked: 2, reason: 'seq 3 is missing (next stored is 4)' });
    const backwards = [...chain.slice(0, 5), chain[1]!];
    expect(verify(backwards, head)).toMatchObject({ ok: false, first_bad_seq: 2, checked: 5, reason: 'seq 2 is out of order' });
  });

  it('reports a head beyond the last entry as missing newest entries', () => {
    expect(verify(chain.slice(0, 5), head)).toMatchObject({ ok: false, first_bad_seq: 6, checked: 5, to_seq: 5, reason: 'entries after seq 5 are missing (chain head is 8)' });
    expect(verify([], head)).toMatchObject({ ok: false, first_bad_seq: 1, checked: 0, reason: 'entries after seq 0 are missing (chain head is 8)' });
  });

  it('reports a head whose hash does not match the last entry', () => {
    expect(verify(chain, { seq: 8, hash: chain[6]!.hash })).toMatchObject({ ok: false, first_bad_seq: 8, checked: 8, reason: 'chain head does not match the last entry' });
    expect(verify([], { seq: 0, hash: 'e'.repeat(64) })).toMatchObject({ ok: false, first_bad_seq: 0, reason: 'chain head does not match the last entry' });
  });

  it('stops at the first break: later entries change nothing', () => {
    const v = new ChainVerifier(GENESIS);
    expect(v.push(chain[0]!)).toBe(true);
    expect(v.push(chain[2]!)).toBe(false);
    expect(v.push(chain[1]!)).toBe(false);
    expect(v.push(chain[2]!)).toBe(false);
    expect(v.finish(head)).toMatchObject({ ok: false, first_bad_seq: 2, checked: 1, to_seq: 1, reason: 'seq 2 is missing (next stored is 3)' });
  });

  // Known bug (reported to the lead, not fixed here): the verifier trusts ts/occurred_at to be
  // integer ms inside the Date range. These assert the wanted behaviour and are marked `fails`
  // while it is missing; switch them to `it` with the fix.
  it('reports a ts beyond the Date range at that entry instead of throwing', () => {
    expect(verify(replaceAt(chain, 3, { ...chain[2]!, ts: 9e15 }), head)).toMatchObject({ ok: false, first_bad_seq: 3 });
  });

  it('reports a fractional ts (a REAL in SQLite) at that entry, though it encodes like the whole ms', () => {
    expect(verify(replaceAt(chain, 3, { ...chain[2]!, ts: chain[2]!.ts + 0.5 }), head)).toMatchObject({ ok: false, first_bad_seq: 3 });
  });
});

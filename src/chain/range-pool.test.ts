import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { StoredEntry } from '../audit/audit-entry.js';
import { ACTOR_TYPES } from '../audit/audit-entry.js';
import { CATEGORIES, SEVERITIES } from '../catalog/event-definitions.js';
import { canonicalJson } from './canonical-json.js';
import type { ChainAnchor } from './chain-verifier.js';
import { ChainVerifier } from './chain-verifier.js';
import type { HashableEntry } from './entry-hash.js';
import { CHAIN_GENESIS, canonicalTuple, chainHash } from './entry-hash.js';
import type { EntryTuple } from './entry-tuple.js';
import { rangeCheckInThisThread } from './range-pool.js';

/** The workers' program, compiled here. */
const workerCode = rangeCheckInThisThread();

const text = fc.string({ unit: fc.oneof(fc.constantFrom('"', '\\', '\n', '\u0000', '\u2028', '\ud83d', 'é', '😀'), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })), maxLength: 12 });
const time = fc.date({ noInvalidDate: true }).map((d) => d.getTime());
const fields: fc.Arbitrary<Omit<HashableEntry, 'seq'>> = fc.record({
  id: text,
  ts: fc.oneof(time, fc.integer({ min: 1_700_000_000_000, max: 1_700_000_100_000 })),
  occurred_at: fc.option(time),
  action: text,
  category: fc.constantFrom(...CATEGORIES),
  severity: fc.constantFrom(...SEVERITIES),
  actor: fc.record({ type: fc.constantFrom(...ACTOR_TYPES), id: fc.option(text), name: fc.option(text) }),
  resource: fc.record({ type: text, id: text, name: fc.option(text) }),
  description: text,
  detailsJson: fc.dictionary(text, fc.jsonValue({ stringUnit: 'binary', maxDepth: 2 })).map(canonicalJson),
  source: fc.record({ ip: fc.option(text), user_agent: fc.option(text), token_id: fc.option(text) }),
  request_id: fc.option(text),
});

function tupleOf(e: StoredEntry): EntryTuple {
  return [
    e.seq, e.id, e.ts, e.occurred_at, e.action, e.category, e.severity, e.actor.type, e.actor.id, e.actor.name,
    e.resource.type, e.resource.id, e.resource.name, e.description, e.detailsJson, e.source.ip, e.source.user_agent,
    e.source.token_id, e.request_id, e.prev_hash, e.hash,
  ];
}

/** A chain linked after `anchor` as the chain writer links it, as array rows. */
function chainOf(entries: ReadonlyArray<Omit<HashableEntry, 'seq'>>, anchor: ChainAnchor): EntryTuple[] {
  let prev = anchor.hash;
  return entries.map((f, i) => {
    const e = { ...f, seq: anchor.seq + 1 + i };
    const hash = chainHash(prev, e);
    const row = tupleOf({ ...e, prev_hash: prev, hash });
    prev = hash;
    return row;
  });
}

/** Ways rows are broken: an edited column, a removed, repeated or moved row. */
type Tamper = { kind: 'edit'; at: number; column: number; value: unknown } | { kind: 'drop' | 'repeat' | 'swap'; at: number };
const tamper: fc.Arbitrary<Tamper> = fc.oneof(
  fc.record({
    kind: fc.constant('edit' as const),
    at: fc.nat(),
    column: fc.constantFrom(0, 1, 2, 3, 4, 13, 14, 19, 20),
    value: fc.oneof(text, fc.constant(null), fc.constantFrom(8.64e15 + 1, 0.5, -1, 2 ** 53), time, fc.constant('ab'.repeat(32))),
  }),
  fc.record({ kind: fc.constantFrom('drop' as const, 'repeat' as const, 'swap' as const), at: fc.nat() }),
);

function applyTamper(rows: EntryTuple[], t: Tamper): EntryTuple[] {
  if (rows.length === 0) return rows;
  const at = t.at % rows.length;
  const out = rows.slice();
  switch (t.kind) {
    case 'edit': {
      const row = out[at]!.slice() as unknown[];
      // seq and the text columns stay of their type (the drivers give nothing else back for them).
      if (t.column === 0) row[0] = typeof t.value === 'number' && Number.isSafeInteger(t.value) ? t.value : (row[0] as number) + 7;
      else if (t.column === 3 || t.column === 2) row[t.column] = typeof t.value === 'number' ? t.value : t.column === 3 ? null : (row[2] as number) + 1;
      else row[t.column] = typeof t.value === 'string' ? t.value : `${String(row[t.column])}!`;
      out[at] = row as EntryTuple;
      return out;
    }
    case 'drop':
      out.splice(at, 1);
      return out;
    case 'repeat':
      out.splice(at, 0, out[at]!);
      return out;
    case 'swap':
      if (at + 1 < out.length) [out[at], out[at + 1]] = [out[at + 1]!, out[at]!];
      return out;
  }
}

/** The walk in one thread: `ChainVerifier.push` row by row, stopping at a row that differs from its signed checkpoint. */
function walkInOne(rows: readonly EntryTuple[], anchor: ChainAnchor, head: ChainAnchor, signed: ReadonlyMap<number, string>): unknown {
  const v = new ChainVerifier(anchor);
  let mismatch: number | null = null;
  for (const r of rows) {
    if (!v.push(toEntry(r))) break;
    const s = signed.get(r[0]);
    if (s !== undefined && s !== r[20]) {
      mismatch = r[0];
      break;
    }
  }
  return { result: v.finish(head), mismatch };
}

/** The walk in ranges: `checkRange` over each slice (in chunks), joined with `pushRun`. */
function walkInRanges(rows: readonly EntryTuple[], cuts: readonly number[], chunk: number, anchor: ChainAnchor, head: ChainAnchor, signed: ReadonlyMap<number, string>): unknown {
  const v = new ChainVerifier(anchor);
  let mismatch: number | null = null;
  const bounds = [...new Set([0, ...cuts.map((c) => c % (rows.length + 1)), rows.length])].sort((a, b) => a - b);
  for (let i = 0; i + 1 < bounds.length; i++) {
    const range = rows.slice(bounds[i], bounds[i + 1]);
    const chunks = Array.from({ length: Math.ceil(range.length / chunk) }, (_, k) => range.slice(k * chunk, (k + 1) * chunk));
    const { run, signedMismatch } = workerCode.checkRange(chunks, [...signed]);
    if (run === null) continue;
    if (!v.pushRun(run)) break;
    if (signedMismatch !== null) {
      mismatch = signedMismatch;
      break;
    }
  }
  return { result: v.finish(head), mismatch };
}

function toEntry(r: EntryTuple): StoredEntry {
  return {
    seq: r[0], id: r[1], ts: r[2], occurred_at: r[3], action: r[4], category: r[5] as never, severity: r[6] as never,
    actor: { type: r[7] as never, id: r[8], name: r[9] }, resource: { type: r[10], id: r[11], name: r[12] }, description: r[13], detailsJson: r[14],
    source: { ip: r[15], user_agent: r[16], token_id: r[17] }, request_id: r[18], prev_hash: r[19], hash: r[20],
  };
}

describe("the range workers' program (compiled in this thread)", () => {
  it('writes the canonical bytes canonicalTuple writes, for any row (property)', () => {
    fc.assert(
      fc.property(fc.array(fields, { minLength: 1, maxLength: 6 }), fc.nat(), (entries, seq) => {
        for (const row of chainOf(entries, { seq, hash: CHAIN_GENESIS })) expect(workerCode.canonicalRow(row)).toBe(canonicalTuple(row));
      }),
      { numRuns: 300 },
    );
  });

  it('accepts every row of a sound chain and reports the run for the join', () => {
    const anchor = { seq: 41, hash: 'cd'.repeat(32) };
    const rows = chainOf(fc.sample(fields, { numRuns: 30, seed: 7 }), anchor);
    const { run, signedMismatch } = workerCode.checkRange([rows.slice(0, 11), [], rows.slice(11)], []);
    expect(run).toEqual({ first: [42, anchor.hash], passed: 30, last: { seq: 71, hash: rows[29]![20] }, failure: null });
    expect(signedMismatch).toBeNull();
    expect(workerCode.checkRange([[], []], [])).toEqual({ run: null, signedMismatch: null });
    // A signed checkpoint that differs ends the run with that row.
    expect(workerCode.checkRange([rows], [[50, 'ef'.repeat(32)]])).toEqual({ run: { first: [42, anchor.hash], passed: 9, last: { seq: 50, hash: rows[8]![20] }, failure: null }, signedMismatch: 50 });
  });

  it('joined range by range, reaches what ChainVerifier reaches over the whole chain, wherever the ranges are cut (property)', () => {
    const scenario = fc.record({
      entries: fc.array(fields, { maxLength: 40 }),
      anchorSeq: fc.constantFrom(0, 3, 1_000),
      tampers: fc.array(tamper, { maxLength: 3 }),
      cuts: fc.array(fc.nat(), { maxLength: 6 }),
      chunk: fc.integer({ min: 1, max: 9 }),
      headShift: fc.constantFrom(0, 0, 0, -1, 1),
      wrongHeadHash: fc.boolean(),
      signedAt: fc.array(fc.tuple(fc.nat(), fc.boolean()), { maxLength: 3 }),
    });
    fc.assert(
      fc.property(scenario, (s) => {
        const anchor = { seq: s.anchorSeq, hash: s.anchorSeq === 0 ? CHAIN_GENESIS : 'cd'.repeat(32) };
        const sound = chainOf(s.entries, anchor);
        const rows = s.tampers.reduce(applyTamper, sound);
        const last = sound.at(-1);
        const head = { seq: (last?.[0] ?? anchor.seq) + s.headShift, hash: s.wrongHeadHash ? 'ee'.repeat(32) : (last?.[20] ?? anchor.hash) };
        const signed = new Map(sound.length === 0 ? [] : s.signedAt.map(([i, right]) => [sound[i % sound.length]![0], right ? sound[i % sound.length]![20] : 'ef'.repeat(32)] as const));
        expect(walkInRanges(rows, s.cuts, s.chunk, anchor, head, signed)).toEqual(walkInOne(rows, anchor, head, signed));
      }),
      { numRuns: 400 },
    );
  });
});

import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ACTOR_TYPES } from '../audit/audit-entry.js';
import { CATEGORIES, SEVERITIES } from '../catalog/event-definitions.js';
import { canonicalJson } from './canonical-json.js';
import type { HashableEntry } from './entry-hash.js';
import { CHAIN_GENESIS, canonicalEntry, canonicalTuple, chainHash } from './entry-hash.js';
import type { EntryTuple } from './entry-tuple.js';
import { tupleToEntry } from './entry-tuple.js';

// Expected values below were computed outside this code base, with
// `printf %s trailmark:audit-chain:v1 | sha256sum` and Python's hashlib + json.dumps(sort_keys=True,
// separators=(',', ':'), ensure_ascii=False) over SHA-256(bytes.fromhex(prev) + canonical.encode()).
const GENESIS_HEX = '6c83a1ac38a5483025bf60a5e7543951cb6722b5aebf093b92eb2a5f786edb03';

const ENTRY_A: HashableEntry = {
  id: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
  seq: 1,
  ts: Date.UTC(2026, 10, 24, 12, 0, 0),
  occurred_at: null,
  action: 'system.started',
  category: 'system',
  severity: 'info',
  actor: { type: 'system', id: null, name: null },
  resource: { type: 'service', id: 'trailmark', name: null },
  description: 'Trailmark 0.1.0 started on sqlite',
  detailsJson: '{"backend":"sqlite","node_version":"v20.20.2","version":"0.1.0"}',
  source: { ip: null, user_agent: null, token_id: null },
  request_id: null,
};
const CANONICAL_A =
  '{"action":"system.started","actor":{"id":null,"name":null,"type":"system"},"category":"system",' +
  '"description":"Trailmark 0.1.0 started on sqlite","details":{"backend":"sqlite","node_version":"v20.20.2","version":"0.1.0"},' +
  '"id":"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b","occurred_at":null,"request_id":null,"resource":{"id":"trailmark","name":null,"type":"service"},' +
  '"seq":1,"severity":"info","source":{"ip":null,"token_id":null,"user_agent":null},"ts":"2026-11-24T12:00:00.000Z"}';
const HASH_A = 'cfdea5719e99aa7e4885c32f0bf207ac8036e77780c56990464d8fd4538f4974';

const ENTRY_B: HashableEntry = {
  id: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c',
  seq: 2,
  ts: Date.UTC(2026, 10, 24, 12, 0, 1, 234),
  occurred_at: Date.UTC(2026, 10, 24, 11, 59, 59, 999),
  action: 'auth.login.failed',
  category: 'auth',
  severity: 'warning',
  actor: { type: 'user', id: 'u-42', name: 'Zoë "the admin" 名前 🚀' },
  resource: { type: 'user', id: 'u-42', name: 'Zoë' },
  description: 'Failed login for zoë\\ from 203.0.113.9\n(bad_password)\t\u001f\u2028\u007f',
  detailsJson: '{"ip":"203.0.113.9","nested":{"a":"x\\u0000","b":[1,2.5,-3,true,null]},"reason":"bad_password","username":"zoë","\uE000":1,"😀":2}',
  source: { ip: '203.0.113.9', user_agent: 'curl/8 ü', token_id: 'tok-1' },
  request_id: 'req-é',
};
const CANONICAL_B =
  '{"action":"auth.login.failed","actor":{"id":"u-42","name":"Zoë \\"the admin\\" 名前 🚀","type":"user"},"category":"auth",' +
  '"description":"Failed login for zoë\\\\ from 203.0.113.9\\n(bad_password)\\t\\u001f\u2028\u007f",' +
  '"details":{"ip":"203.0.113.9","nested":{"a":"x\\u0000","b":[1,2.5,-3,true,null]},"reason":"bad_password","username":"zoë","\uE000":1,"😀":2},' +
  '"id":"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c","occurred_at":"2026-11-24T11:59:59.999Z","request_id":"req-é",' +
  '"resource":{"id":"u-42","name":"Zoë","type":"user"},"seq":2,"severity":"warning",' +
  '"source":{"ip":"203.0.113.9","token_id":"tok-1","user_agent":"curl/8 ü"},"ts":"2026-11-24T12:00:01.234Z"}';
const HASH_B = '1bd60f227dc3b230ffd1c586f5ee9a6eb7110767c2c03f70c4b3284a65bfe780';

/** The entry as a plain object, members in no particular order, times as ISO strings. */
function plain(e: HashableEntry): Record<string, unknown> {
  return {
    ts: new Date(e.ts).toISOString(),
    seq: e.seq,
    id: e.id,
    details: JSON.parse(e.detailsJson) as unknown,
    source: { user_agent: e.source.user_agent, token_id: e.source.token_id, ip: e.source.ip },
    resource: { type: e.resource.type, name: e.resource.name, id: e.resource.id },
    actor: { type: e.actor.type, name: e.actor.name, id: e.actor.id },
    occurred_at: e.occurred_at === null ? null : new Date(e.occurred_at).toISOString(),
    request_id: e.request_id,
    severity: e.severity,
    description: e.description,
    category: e.category,
    action: e.action,
  };
}

const text = fc.string({ unit: fc.oneof(fc.constantFrom('"', '\\', '\n', '\u0000', '\u2028', '\ud83d', 'é', '😀'), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })), maxLength: 16 });
const time = fc.date({ noInvalidDate: true }).map((d) => d.getTime());
const entryArb: fc.Arbitrary<HashableEntry> = fc.record({
  id: text,
  seq: fc.maxSafeNat(),
  ts: time,
  occurred_at: fc.option(time),
  action: text,
  category: fc.constantFrom(...CATEGORIES),
  severity: fc.constantFrom(...SEVERITIES),
  actor: fc.record({ type: fc.constantFrom(...ACTOR_TYPES), id: fc.option(text), name: fc.option(text) }),
  resource: fc.record({ type: text, id: text, name: fc.option(text) }),
  description: text,
  detailsJson: fc.dictionary(text, fc.jsonValue({ stringUnit: 'binary', maxDepth: 3 })).map(canonicalJson),
  source: fc.record({ ip: fc.option(text), user_agent: fc.option(text), token_id: fc.option(text) }),
  request_id: fc.option(text),
});

describe('CHAIN_GENESIS', () => {
  it('is SHA-256 of "trailmark:audit-chain:v1", lowercase hex', () => {
    expect(CHAIN_GENESIS).toBe(GENESIS_HEX);
  });
});

describe('canonicalEntry', () => {
  it('matches independently computed canonical bytes', () => {
    expect(canonicalEntry(ENTRY_A)).toBe(CANONICAL_A);
    expect(canonicalEntry(ENTRY_B)).toBe(CANONICAL_B);
  });

  it('equals canonicalJson of the same entry as a plain object', () => {
    const others: HashableEntry[] = [
      { ...ENTRY_A, seq: 9_007_199_254_740_991, ts: 0, occurred_at: -1, detailsJson: '{}' },
      { ...ENTRY_B, actor: { type: 'worker', id: null, name: '' }, resource: { type: '', id: '', name: '\u0000' }, request_id: null },
      { ...ENTRY_B, source: { ip: '::1', user_agent: null, token_id: null }, detailsJson: canonicalJson({ '10': [{}], '9': { b: null, a: -0.5 } }) },
    ];
    for (const e of [ENTRY_A, ENTRY_B, ...others]) expect(canonicalEntry(e)).toBe(canonicalJson(plain(e)));
  });

  it('equals canonicalJson of the plain object for any entry (property)', () => {
    fc.assert(
      fc.property(entryArb, (e) => {
        expect(canonicalEntry(e)).toBe(canonicalJson(plain(e)));
      }),
      { numRuns: 500 },
    );
  });

  it('leaves prev_hash and hash out of the hashed bytes', () => {
    const stored = { ...ENTRY_A, prev_hash: 'a'.repeat(64), hash: 'b'.repeat(64) };
    expect(canonicalEntry(stored)).toBe(CANONICAL_A);
  });
});

/** The entry as the drivers return it in array mode (ENTRY_COLUMNS order). */
function tuple(e: HashableEntry): EntryTuple {
  return [
    e.seq, e.id, e.ts, e.occurred_at, e.action, e.category, e.severity, e.actor.type, e.actor.id, e.actor.name,
    e.resource.type, e.resource.id, e.resource.name, e.description, e.detailsJson, e.source.ip, e.source.user_agent,
    e.source.token_id, e.request_id, 'a'.repeat(64), 'b'.repeat(64),
  ];
}

describe('canonicalTuple', () => {
  it('writes the known answers from array rows', () => {
    expect(canonicalTuple(tuple(ENTRY_A))).toBe(CANONICAL_A);
    expect(canonicalTuple(tuple(ENTRY_B))).toBe(CANONICAL_B);
  });

  it('equals canonicalEntry of the same entry, row after row (property)', () => {
    fc.assert(
      fc.property(fc.array(entryArb, { minLength: 1, maxLength: 8 }), (entries) => {
        for (const e of entries) {
          expect(canonicalTuple(tuple(e))).toBe(canonicalEntry(e));
          expect(canonicalEntry(tupleToEntry(tuple(e)))).toBe(canonicalEntry(e));
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('chainHash', () => {
  it('is SHA-256 over the previous hash as 32 raw bytes followed by the canonical bytes (known answers)', () => {
    expect(chainHash(GENESIS_HEX, ENTRY_A)).toBe(HASH_A);
    expect(chainHash(HASH_A, ENTRY_B)).toBe(HASH_B);
  });

  it('changes when the previous hash or any hashed field changes', () => {
    const base = chainHash(HASH_A, ENTRY_B);
    const edits: Array<Partial<HashableEntry>> = [
      { id: `${ENTRY_B.id}0` }, { seq: 3 }, { ts: ENTRY_B.ts + 1 }, { occurred_at: null }, { occurred_at: ENTRY_B.occurred_at! + 1 },
      { action: 'auth.login.success' }, { category: 'user' }, { severity: 'error' },
      { actor: { ...ENTRY_B.actor, type: 'worker' } }, { actor: { ...ENTRY_B.actor, id: null } }, { actor: { ...ENTRY_B.actor, name: 'null' } },
      { resource: { ...ENTRY_B.resource, type: 'secret' } }, { resource: { ...ENTRY_B.resource, id: 'u-43' } }, { resource: { ...ENTRY_B.resource, name: null } },
      { description: `${ENTRY_B.description} ` }, { detailsJson: ENTRY_B.detailsJson.replace('2.5', '2.50') },
      { source: { ...ENTRY_B.source, ip: null } }, { source: { ...ENTRY_B.source, user_agent: '' } }, { source: { ...ENTRY_B.source, token_id: 'tok-2' } },
      { request_id: null },
    ];
    const seen = new Set([base]);
    for (const edit of edits) {
      const h = chainHash(HASH_A, { ...ENTRY_B, ...edit });
      expect(seen.has(h), JSON.stringify(edit)).toBe(false);
      seen.add(h);
    }
    expect(chainHash(GENESIS_HEX, ENTRY_B)).not.toBe(base);
  });

  it('equals SHA-256 over Buffer.from(prev_hash, hex) and the UTF-8 canonical bytes, for any entry and any prev_hash text (property)', () => {
    const reference = (prev: string, e: HashableEntry): string => createHash('sha256').update(Buffer.from(prev, 'hex')).update(canonicalEntry(e), 'utf8').digest('hex');
    const prevArb = fc.oneof(fc.stringMatching(/^[0-9a-f]{64}$/), fc.string({ maxLength: 70 }));
    fc.assert(
      fc.property(prevArb, entryArb, (prev, e) => {
        expect(chainHash(prev, e)).toBe(reference(prev, e));
      }),
      { numRuns: 500 },
    );
    // Details large enough to take the path for long texts.
    const big = { ...ENTRY_B, detailsJson: canonicalJson({ blob: '😀é'.repeat(30_000) }) };
    expect(chainHash(HASH_A, big)).toBe(reference(HASH_A, big));
  });
});

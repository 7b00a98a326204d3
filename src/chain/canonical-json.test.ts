import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical-json.js';

/** Strings over every kind of UTF-16 content, lone surrogates included. */
const anyString = fc.string({
  unit: fc.oneof(fc.constantFrom('\u0000', '\u001f', '"', '\\', '\u2028', '\ud800', '\udfff', '\uE000', '\u{1F600}'), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })),
  maxLength: 12,
});
/** JSON values JSON itself round-trips: -0 has no JSON form distinct from 0 (it encodes as `0`). */
const jsonSafe = fc.jsonValue({ stringUnit: 'binary', maxDepth: 4 }).map(function positiveZero(v: unknown): unknown {
  if (Object.is(v, -0)) return 0;
  if (Array.isArray(v)) return v.map(positiveZero);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, positiveZero(x)]));
  return v;
});
const jsonWithOddKeys = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, fc.constant(null), fc.boolean(), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), anyString, fc.array(tie('value')), fc.dictionary(anyString, tie('value'))),
})).value;

/** Independent code-point comparison: fixed-width hex code points compare like the code points. */
const codePointKey = (s: string): string => Array.from(s, (c) => c.codePointAt(0)!.toString(16).padStart(6, '0')).join('');

/** A reference encoder written separately from the one under test. */
function model(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(model).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (codePointKey(a) < codePointKey(b) ? -1 : codePointKey(a) > codePointKey(b) ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${model(x)}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** The same value with every object's members inserted in reverse order. */
function reversed(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(reversed);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>).reverse()) Object.defineProperty(out, k, { value: reversed(x), enumerable: true, writable: true, configurable: true });
    return out;
  }
  return v;
}

describe('canonicalJson', () => {
  it('encodes scalars as JSON does', () => {
    expect(canonicalJson(null)).toBe('null');
    expect(canonicalJson(true)).toBe('true');
    expect(canonicalJson(false)).toBe('false');
    expect(canonicalJson('')).toBe('""');
    expect(canonicalJson('plain')).toBe('"plain"');
  });

  it('writes numbers in the shortest ECMAScript form', () => {
    const cases: Array<[number, string]> = [
      [0, '0'], [-0, '0'], [1, '1'], [-42, '-42'], [2 ** 53 - 1, '9007199254740991'], [-(2 ** 53), '-9007199254740992'],
      [1e20, '100000000000000000000'], [1e21, '1e+21'], [0.1, '0.1'], [1.5, '1.5'], [-2.5e-3, '-0.0025'],
      [1e-7, '1e-7'], [5e-324, '5e-324'], [1.7976931348623157e308, '1.7976931348623157e+308'], [0.1 + 0.2, '0.30000000000000004'],
    ];
    for (const [n, text] of cases) expect(canonicalJson(n), String(n)).toBe(text);
  });

  it('refuses non-finite numbers wherever they are', () => {
    for (const bad of [NaN, Infinity, -Infinity]) {
      expect(() => canonicalJson(bad)).toThrow(TypeError);
      expect(() => canonicalJson({ a: 1, b: bad })).toThrow(/non-finite/);
      expect(() => canonicalJson([1, [bad]])).toThrow(/non-finite/);
    }
  });

  it('refuses values JSON has no form for', () => {
    expect(() => canonicalJson(undefined)).toThrow(TypeError);
    expect(() => canonicalJson(10n)).toThrow(/bigint/);
    expect(() => canonicalJson(() => 1)).toThrow(/function/);
    expect(() => canonicalJson({ a: Symbol('s') })).toThrow(/symbol/);
  });

  it('sorts members by key, recursively, with no whitespace', () => {
    expect(canonicalJson({ b: 1, a: 2 })).toBe('{"a":2,"b":1}');
    expect(canonicalJson({ b: [3, { z: 1, y: [] }], a: { d: {}, c: null } })).toBe('{"a":{"c":null,"d":{}},"b":[3,{"y":[],"z":1}]}');
    expect(canonicalJson([{ b: 1, a: 2 }, [], [[]], 'x'])).toBe('[{"a":2,"b":1},[],[[]],"x"]');
  });

  it('orders keys by code point: prefixes first, upper case before lower, U+E000 before astral keys', () => {
    const value = { '😀': 8, '\uFFFF': 9, '\uE000': 7, é: 6, aa: 4, a: 1, _: 3, B: 2, '': 5 };
    expect(canonicalJson(value)).toBe('{"":5,"B":2,"_":3,"a":1,"aa":4,"é":6,"\uE000":7,"\uFFFF":9,"😀":8}');
    // UTF-16 unit order (Array.prototype.sort) would put the astral key first: the case matters.
    expect(['\uE000', '😀'].sort()).toEqual(['😀', '\uE000']);
    expect(canonicalJson({ '😀': 1, '\uE000': 2 })).toBe('{"\uE000":2,"😀":1}');
    expect(canonicalJson({ '\u{10000}': 1, '\uD7FF': 2, '\uFB01': 3 })).toBe('{"\uD7FF":2,"\uFB01":3,"\u{10000}":1}');
  });

  it('sorts integer-like keys as strings, not in JavaScript enumeration order', () => {
    expect(Object.keys({ 10: 1, 9: 2, b: 3, 2: 4 })).toEqual(['2', '9', '10', 'b']);
    expect(canonicalJson({ 10: 1, 9: 2, b: 3, 2: 4 })).toBe('{"10":1,"2":4,"9":2,"b":3}');
  });

  it('escapes strings and keys exactly as JSON.stringify does', () => {
    const s = '\u0000\u0008\t\n\u000b\f\r\u001f "\\/\u007f\u2028é😀\ud800';
    expect(canonicalJson(s)).toBe('"\\u0000\\b\\t\\n\\u000b\\f\\r\\u001f \\"\\\\/\u007f\u2028é😀\\ud800"');
    expect(canonicalJson({ 'a"b\n': 'c\\' })).toBe('{"a\\"b\\n":"c\\\\"}');
    for (let c = 0; c < 0x100; c++) {
      const ch = String.fromCharCode(c);
      expect(canonicalJson(ch)).toBe(JSON.stringify(ch));
      expect(canonicalJson({ [ch]: ch })).toBe(`{${JSON.stringify(ch)}:${JSON.stringify(ch)}}`);
    }
  });

  it('drops undefined members and writes undefined array items as null, as JSON does', () => {
    expect(canonicalJson({ a: undefined, b: 1, c: { d: undefined } })).toBe('{"b":1,"c":{}}');
    expect(canonicalJson([undefined, 1])).toBe('[null,1]');
    expect(canonicalJson({ a: null })).toBe('{"a":null}');
  });

  it('matches an independently computed vector (Python json.dumps, sort_keys, compact)', () => {
    const details = { username: 'zoë', ip: '203.0.113.9', reason: 'bad_password', nested: { b: [1, 2.5, -3, true, null], a: 'x\u0000' }, '\uE000': 1, '😀': 2 };
    expect(canonicalJson(details)).toBe('{"ip":"203.0.113.9","nested":{"a":"x\\u0000","b":[1,2.5,-3,true,null]},"reason":"bad_password","username":"zoë","\uE000":1,"😀":2}');
  });

  it('is a fixed point: re-encoding its parsed output gives the same text', () => {
    fc.assert(
      fc.property(jsonWithOddKeys, (x) => {
        const text = canonicalJson(x);
        expect(canonicalJson(JSON.parse(text))).toBe(text);
      }),
      { numRuns: 500 },
    );
  });

  it('parses back to a value deep-equal to the JSON-safe input', () => {
    fc.assert(
      fc.property(jsonSafe, (x) => {
        expect(JSON.parse(canonicalJson(x))).toEqual(x);
      }),
      { numRuns: 500 },
    );
  });

  it('agrees with a separately written reference encoder, whatever the insertion order', () => {
    fc.assert(
      fc.property(jsonWithOddKeys, (x) => {
        const text = canonicalJson(x);
        expect(text).toBe(model(x));
        expect(canonicalJson(reversed(x))).toBe(text);
      }),
      { numRuns: 500 },
    );
  });
});

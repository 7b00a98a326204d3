import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IsoTimeFormatter } from './iso-time.js';

describe('IsoTimeFormatter', () => {
  it('writes what toISOString writes, over the whole Date range and across day changes (property)', () => {
    const f = new IsoTimeFormatter();
    const ms = fc.oneof(
      fc.integer({ min: -8.64e15, max: 8.64e15 }),
      fc.integer({ min: Date.UTC(-1, 0, 1) - 1e9, max: Date.UTC(10_000, 0, 1) + 1e9 }),
      fc.integer({ min: Date.UTC(2026, 0, 1), max: Date.UTC(2026, 0, 3) }),
    );
    fc.assert(
      fc.property(fc.array(ms, { minLength: 1, maxLength: 20 }), (times) => {
        for (const t of times) expect(f.format(t)).toBe(new Date(t).toISOString());
      }),
      { numRuns: 2_000 },
    );
  });

  it('agrees at the edges: day and year boundaries, both ends of the range, and non-integers', () => {
    const f = new IsoTimeFormatter();
    const edges = [0, -1, 1, 86_399_999, 86_400_000, -86_400_000, Date.UTC(9999, 11, 31, 23, 59, 59, 999), Date.UTC(10_000, 0, 1), Date.UTC(0, 0, 1) - 1, Date.UTC(0, 0, 1), 8.64e15, -8.64e15, 1.5, -0.5];
    for (const t of [...edges, ...edges.reverse()]) expect(f.format(t)).toBe(new Date(t).toISOString());
    expect(() => f.format(Number.NaN)).toThrow(RangeError);
    expect(() => f.format(8.64e15 + 1)).toThrow(RangeError);
  });
});

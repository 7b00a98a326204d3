import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../chain/canonical-json.js';
import type { StoredEntry } from './audit-entry.js';
import { entryJsonText, presentEntry } from './audit-entry.js';

const text = fc.string({ unit: 'grapheme', maxLength: 20 });
const entry = fc.record({
  details: fc.dictionary(text, fc.jsonValue({ maxDepth: 3 })),
  name: fc.option(text, { nil: null }),
  description: text,
  occurred: fc.option(fc.integer({ min: 0, max: 4_102_444_800_000 }), { nil: null }),
  ts: fc.integer({ min: 0, max: 4_102_444_800_000 }),
  seq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  id: fc.option(text, { nil: null }),
  type: text,
});

describe('entryJsonText', () => {
  it('is the API entry shape, with the stored details text spliced in unchanged', () => {
    fc.assert(
      fc.property(entry, (g) => {
        const detailsJson = canonicalJson(g.details);
        const e: StoredEntry = {
          id: '0190a0a0-0000-7000-8000-000000000001',
          seq: g.seq,
          ts: g.ts,
          occurred_at: g.occurred,
          action: 'rotation.completed',
          category: 'rotation',
          severity: 'info',
          actor: { type: 'user', id: g.id, name: g.name },
          resource: { type: g.type, id: g.description, name: g.name },
          description: g.description,
          detailsJson,
          source: { ip: g.id, user_agent: g.name, token_id: g.id },
          request_id: g.id,
          prev_hash: 'a'.repeat(64),
          hash: 'b'.repeat(64),
        };
        const line = entryJsonText(e);
        // Equal as JSON (parsing puts integer-like keys of the details first, so not as text).
        expect(JSON.parse(line)).toEqual(JSON.parse(JSON.stringify(presentEntry(e))));
        expect(Object.keys(JSON.parse(line) as object)).toEqual(Object.keys(presentEntry(e)));
        for (const part of ['actor', 'resource', 'source'] as const) {
          expect(Object.keys((JSON.parse(line) as Record<string, object>)[part]!)).toEqual(Object.keys(presentEntry(e)[part]));
        }
        expect(line).toContain(`"details":${detailsJson},`);
      }),
      { numRuns: 300 },
    );
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cleanText } from './audit-recorder.js';

const reference = (s: string): string => s.replace(/\p{Cs}/gu, '\uFFFD').replaceAll('\u0000', '\uFFFD');

describe('cleanText', () => {
  it('replaces lone surrogates and NUL with U+FFFD and keeps everything else, paired surrogates included (property)', () => {
    const unit = fc.oneof(fc.constantFrom('\u0000', '\ud83d', '\ude00', '😀', 'é', 'a', '\uFFFD'), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }));
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 24 }), (s) => {
        expect(cleanText(s)).toBe(reference(s));
      }),
      { numRuns: 2_000 },
    );
    expect(cleanText('a\u0000b\ud83dc😀')).toBe('a\uFFFDb\uFFFDc😀');
    const plain = 'rotation completed';
    expect(cleanText(plain)).toBe(plain);
  });
});

import { describe, expect, it } from 'vitest';
import { csvField, startsLikeFormula } from './csv-field.js';
import { splitFields, fieldText } from './csv-record-fields.js';

describe('csvField', () => {
  it.each([
    ['plain', 'plain'],
    ['', ''],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['"', '""""'],
    ['line\nbreak', '"line\nbreak"'],
    ['cr\rhere', '"cr\rhere"'],
    ['crlf\r\nhere', '"crlf\r\nhere"'],
    ['Zoë – ✓ 😀 日本', 'Zoë – ✓ 😀 日本'],
    ['trailing space ', 'trailing space '],
    ["it's", "it's"],
  ])('quotes %j as %j', (value, expected) => {
    expect(csvField(value)).toBe(expected);
  });

  it.each([
    ['=SUM(A1:A2)', "'=SUM(A1:A2)"],
    ['+1', "'+1"],
    ['-1', "'-1"],
    ['@cmd', "'@cmd"],
    ['\tx', "'\tx"],
    ['\rx', '"\'\rx"'],
    ['=HYPERLINK("http://x", "y")', '"\'=HYPERLINK(""http://x"", ""y"")"'],
    ['=1,2', '"\'=1,2"'],
    ['a=b', 'a=b'],
    [' =x', ' =x'],
    ["'=already", "'=already"],
  ])('guards %j as %j (guard first, then quoting)', (value, expected) => {
    expect(csvField(value)).toBe(expected);
  });

  it('knows the formula starts', () => {
    expect(['=', '+', '-', '@', '\t', '\r'].every(startsLikeFormula)).toBe(true);
    expect(['', 'a', ' ', '\n', "'", '#', '0'].some(startsLikeFormula)).toBe(false);
  });

  it('reads back what it writes, guard kept', () => {
    const values = ['a', '', 'x,y', 'q"q', '\r\n', '=1', '-', 'ü'];
    const record = Buffer.from(values.map(csvField).join(','), 'utf8');
    const split = splitFields(record);
    expect(split.ok).toBe(true);
    if (!split.ok) return;
    expect(split.fields.map((f) => fieldText(record, f))).toEqual(['a', '', 'x,y', 'q"q', "'\r\n", "'=1", "'-", 'ü']);
  });

  it.each([
    ['"abc",x', 'field 1 is quoted but holds no comma, quote, CR or LF'],
    ['a"b,x', 'field 1 holds a quote, CR or LF but is not quoted'],
    ['"a,b', 'field 1 has no closing quote'],
    ['"a,b"c', 'field 1 has text after its closing quote'],
    ['=1,x', 'field 1 starts like a formula without the \' guard'],
    ['x,"=1,2"', "field 2 starts like a formula without the ' guard"],
  ])('refuses the non-canonical record %j', (record, reason) => {
    expect(splitFields(Buffer.from(record))).toEqual({ ok: false, reason });
  });
});

import { describe, expect, it } from 'vitest';
import { OctetCountingDecoder, parseRfc5424 } from './syslog-frame-parser.js';

const GOOD = '<134>1 2026-06-01T12:34:56.789Z host app - auth.login [x@32473 a="1" b="q\\"\\\\\\]"][meta sequenceId="1"] \ufeff{"k":1}';

describe('the strict RFC 5424 / RFC 6587 parser the syslog tests rely on', () => {
  it('parses a well-formed message, unescaping PARAM-VALUEs', () => {
    const m = parseRfc5424(Buffer.from(GOOD, 'utf8'));
    expect(m).toMatchObject({ pri: 134, facility: 16, severity: 6, version: 1, hostname: 'host', appName: 'app', procId: '-', msgId: 'auth.login', bom: true, msg: '{"k":1}' });
    expect(m.structuredData).toEqual([{ id: 'x@32473', params: [['a', '1'], ['b', 'q"\\]']] }, { id: 'meta', params: [['sequenceId', '1']] }]);
    expect(parseRfc5424(Buffer.from('<0>1 - - - - - -')).structuredData).toEqual([]);
  });

  it.each([
    ['PRI with a leading zero', '<013>1 - - - - - -'],
    ['PRI over 191', '<192>1 - - - - - -'],
    ['no VERSION', '<13> - - - - - -'],
    ['a date that does not exist', '<13>1 2026-13-01T00:00:00Z - - - - -'],
    ['a time without its zone', '<13>1 2026-01-01T00:00:00 - - - - -'],
    ['seven fraction digits', '<13>1 2026-01-01T00:00:00.1234567Z - - - - -'],
    ['a control character in HOSTNAME', '<13>1 - ho\tst - - - -'],
    ['APP-NAME over 48 octets', `<13>1 - - ${'a'.repeat(49)} - - -`],
    ['MSGID over 32 octets', `<13>1 - - - - ${'m'.repeat(33)} -`],
    ['an unescaped ] in a PARAM-VALUE', '<13>1 - - - - - [x@1 a="b]"]'],
    ['a backslash escaping nothing', '<13>1 - - - - - [x@1 a="b\\n"]'],
    ['an unregistered SD-ID without @', '<13>1 - - - - - [custom a="1"]'],
    ['the same SD-ID twice', '<13>1 - - - - - [x@1][x@1]'],
    ['a PARAM-NAME with a quote', '<13>1 - - - - - [x@1 a"="1"]'],
    ['an unclosed SD-ELEMENT', '<13>1 - - - - - [x@1 a="1"'],
    ['two spaces between fields', '<13>1  - - - - -'],
  ])('refuses %s', (_why, text) => {
    expect(() => parseRfc5424(Buffer.from(text, 'utf8'))).toThrow();
  });

  it('refuses invalid UTF-8 after the BOM', () => {
    expect(() => parseRfc5424(Buffer.concat([Buffer.from('<13>1 - - - - - - \ufeff', 'utf8'), Buffer.from([0xc3, 0x28])]))).toThrow(/UTF-8/);
  });

  it('splits octet-counted frames across chunk boundaries and refuses bad framing', () => {
    const d = new OctetCountingDecoder();
    expect(d.push(Buffer.from('5 hel'))).toEqual([]);
    expect(d.push(Buffer.from('lo3 abc1')).map(String)).toEqual(['hello', 'abc']);
    expect(d.pending).toBe(1);
    expect(() => new OctetCountingDecoder().push(Buffer.from('05 hello'))).toThrow(/MSG-LEN/);
    expect(() => new OctetCountingDecoder().push(Buffer.from('5\nhello'))).toThrow(/not SP/);
    expect(() => new OctetCountingDecoder().push(Buffer.from('<13>1 - - - - - -'))).toThrow(/MSG-LEN/);
    expect(() => new OctetCountingDecoder(100).push(Buffer.from('1000 '))).toThrow(/over 100|digits/);
  });
});

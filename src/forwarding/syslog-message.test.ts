import { describe, expect, it } from 'vitest';
import type { AuditEntryJson } from '../audit/audit-entry.js';
import { escapeParamValue, octetCountingFrame, syslogMessage } from './syslog-message.js';

const entry: AuditEntryJson = {
  id: '01890000-0000-7000-8000-000000000001',
  seq: 42,
  ts: '2026-06-01T12:34:56.789Z',
  occurred_at: null,
  action: 'auth.login.failed',
  category: 'auth',
  severity: 'warning',
  actor: { type: 'user', id: null, name: 'mallory' },
  resource: { type: 'user', id: 'u-1', name: 'Zoë "admin" [x]' },
  description: 'Failed sign-in',
  details: { username: 'mallory' },
  source: { ip: '203.0.113.9', user_agent: null, token_id: null },
  request_id: null,
  prev_hash: 'a'.repeat(64),
  hash: 'b'.repeat(64),
};
const ctx = { hostname: 'tm-node-1', appName: 'trailmark', deliveryId: 'd-1', rule: { id: 'r-1', name: 'SOC "prod" \\ [eu]' } };

describe('RFC 5424 message', () => {
  it('formats a known answer: PRI local0.warning, entry ts, action as MSGID, escaped SD, BOM + entry JSON', () => {
    const msg = syslogMessage(entry, ctx);
    const header =
      '<132>1 2026-06-01T12:34:56.789Z tm-node-1 trailmark - auth.login.failed ' +
      `[trailmark@32473 seq="42" hash="${'b'.repeat(64)}" delivery_id="d-1" rule_id="r-1" rule_name="SOC \\"prod\\" \\\\ [eu\\]"] `;
    expect(msg.subarray(0, Buffer.byteLength(header)).toString('utf8')).toBe(header);
    const rest = msg.subarray(Buffer.byteLength(header));
    expect([...rest.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(JSON.parse(rest.subarray(3).toString('utf8'))).toEqual(entry);
  });

  it('maps severities to syslog severities under facility local0', () => {
    const pri = (severity: AuditEntryJson['severity']) => /^<(\d+)>/.exec(syslogMessage({ ...entry, severity }, ctx).toString())![1];
    expect([pri('info'), pri('warning'), pri('error'), pri('critical')]).toEqual(['134', '132', '131', '130']);
  });

  it('keeps header fields printable US-ASCII, NILVALUE when nothing is left', () => {
    const text = syslogMessage(entry, { ...ctx, hostname: 'höst name\n' }).toString();
    expect(text.split(' ')[2]).toBe('hstname');
    expect(syslogMessage(entry, { ...ctx, hostname: 'ä' }).toString().split(' ')[2]).toBe('-');
  });

  it('escapes exactly quote, backslash and closing bracket in PARAM-VALUEs', () => {
    expect(escapeParamValue('a"b\\c]d[e=f')).toBe('a\\"b\\\\c\\]d[e=f');
  });

  it('frames with the length in octets, not characters (RFC 6587 octet counting)', () => {
    const message = Buffer.from('<134>1 - - - - - - ü', 'utf8');
    expect(octetCountingFrame(message).toString('utf8')).toBe(`${message.length} <134>1 - - - - - - ü`);
    expect(message.length).toBe(21);
  });
});

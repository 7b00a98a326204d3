/** One RFC 5424 message, parsed strictly. */
export interface Rfc5424Message {
  readonly pri: number;
  readonly facility: number;
  readonly severity: number;
  readonly version: number;
  readonly timestamp: string;
  readonly hostname: string;
  readonly appName: string;
  readonly procId: string;
  readonly msgId: string;
  /** SD-ELEMENTs in order; PARAM-VALUEs unescaped. */
  readonly structuredData: Array<{ id: string; params: Array<[string, string]> }>;
  /** Whether MSG began with the UTF-8 BOM (RFC 5424 MSG-UTF8). */
  readonly bom: boolean;
  /** MSG without the BOM, decoded as UTF-8 (strictly when there was a BOM). */
  readonly msg: string | null;
}

const SP = 0x20;
const utf8 = new TextDecoder('utf-8', { fatal: true });
const isPrintUsAscii = (b: number): boolean => b >= 33 && b <= 126;
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?(Z|[+-](\d{2}):(\d{2}))$/;
const IANA_SD_IDS = new Set(['timeQuality', 'origin', 'meta']);

class Cursor {
  i = 0;
  constructor(readonly b: Buffer) {}
  fail(why: string): never {
    throw new Error(`${why} at octet ${this.i}`);
  }
  peek(): number | undefined {
    return this.b[this.i];
  }
  expect(byte: number, what: string): void {
    if (this.b[this.i] !== byte) this.fail(`expected ${what}`);
    this.i += 1;
  }
  /** 1*max PRINTUSASCII up to the next SP (exclusive), or the NILVALUE. */
  token(what: string, max: number): string {
    const start = this.i;
    while (this.i < this.b.length && this.b[this.i] !== SP) {
      if (!isPrintUsAscii(this.b[this.i]!)) this.fail(`${what} holds a byte outside PRINTUSASCII`);
      this.i += 1;
    }
    const len = this.i - start;
    if (len === 0) this.fail(`${what} is empty`);
    if (len > max) this.fail(`${what} is longer than ${max} octets`);
    return this.b.toString('ascii', start, this.i);
  }
}

function checkTimestamp(ts: string): void {
  if (ts === '-') return;
  const m = TIMESTAMP.exec(ts);
  if (!m) throw new Error(`TIMESTAMP '${ts}' is not an RFC 3339 date-time as RFC 5424 restricts it`);
  const [, y, mo, d, h, mi, s, , , oh, om] = m;
  const month = Number(mo);
  const day = Number(d);
  const daysInMonth = new Date(Date.UTC(Number(y), month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth) throw new Error(`TIMESTAMP '${ts}' has no such date`);
  if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 60) throw new Error(`TIMESTAMP '${ts}' has no such time`);
  if (oh !== undefined && (Number(oh) > 23 || Number(om) > 59)) throw new Error(`TIMESTAMP '${ts}' has a bad offset`);
}

/** SD-NAME: 1*32 PRINTUSASCII except '=', SP, ']' and '"'. */
function sdName(c: Cursor, what: string): string {
  const start = c.i;
  for (;;) {
    const b = c.peek();
    if (b === undefined || b === 0x3d || b === SP || b === 0x5d || b === 0x22) break;
    if (!isPrintUsAscii(b)) c.fail(`${what} holds a byte outside PRINTUSASCII`);
    c.i += 1;
  }
  const len = c.i - start;
  if (len < 1 || len > 32) c.fail(`${what} must be 1 to 32 octets`);
  return c.b.toString('ascii', start, c.i);
}

/**
 * PARAM-VALUE up to its closing quote. Strict: a backslash must escape '"', '\' or ']' (the
 * sender escapes every backslash), a raw ']' is refused (RFC 5424 says it MUST be escaped),
 * and the value must be valid UTF-8.
 */
function paramValue(c: Cursor): string {
  const out: number[] = [];
  for (;;) {
    const b = c.peek();
    if (b === undefined) c.fail('PARAM-VALUE is not closed');
    if (b === 0x22) break;
    if (b === 0x5d) c.fail("PARAM-VALUE holds an unescaped ']'");
    if (b === 0x5c) {
      const next = c.b[c.i + 1];
      if (next !== 0x22 && next !== 0x5c && next !== 0x5d) c.fail('PARAM-VALUE holds a backslash that escapes nothing');
      out.push(next);
      c.i += 2;
      continue;
    }
    out.push(b);
    c.i += 1;
  }
  try {
    return utf8.decode(Buffer.from(out));
  } catch {
    return c.fail('PARAM-VALUE is not valid UTF-8');
  }
}

function structuredData(c: Cursor): Rfc5424Message['structuredData'] {
  if (c.peek() === 0x2d) {
    c.i += 1;
    return [];
  }
  const elements: Rfc5424Message['structuredData'] = [];
  while (c.peek() === 0x5b) {
    c.i += 1;
    const id = sdName(c, 'SD-ID');
    const at = id.indexOf('@');
    if (at === -1 ? !IANA_SD_IDS.has(id) : !/^[^@]+@\d+(\.\d+)*$/.test(id)) c.fail(`SD-ID '${id}' is neither IANA-registered nor name@<enterprise number>`);
    if (elements.some((e) => e.id === id)) c.fail(`SD-ID '${id}' appears twice`);
    const params: Array<[string, string]> = [];
    while (c.peek() === SP) {
      c.i += 1;
      const name = sdName(c, 'PARAM-NAME');
      c.expect(0x3d, "'=' after PARAM-NAME");
      c.expect(0x22, "'\"' opening PARAM-VALUE");
      params.push([name, paramValue(c)]);
      c.expect(0x22, "'\"' closing PARAM-VALUE");
    }
    c.expect(0x5d, "']' closing SD-ELEMENT");
    elements.push({ id, params });
  }
  if (elements.length === 0) c.fail("STRUCTURED-DATA is neither '-' nor an SD-ELEMENT");
  return elements;
}

/** Parses one SYSLOG-MSG (RFC 5424 section 6) or throws naming what is wrong. */
export function parseRfc5424(message: Buffer): Rfc5424Message {
  const c = new Cursor(message);
  c.expect(0x3c, "'<' opening PRI");
  const priStart = c.i;
  while (c.peek() !== undefined && c.peek()! >= 0x30 && c.peek()! <= 0x39) c.i += 1;
  const priText = message.toString('ascii', priStart, c.i);
  if (priText.length < 1 || priText.length > 3 || (priText.length > 1 && priText.startsWith('0')) || Number(priText) > 191) c.fail(`PRIVAL '${priText}' is not 0..191 without leading zeros`);
  c.expect(0x3e, "'>' closing PRI");
  const versionText = c.token('VERSION', 3);
  if (!/^[1-9][0-9]{0,2}$/.test(versionText)) c.fail('VERSION is not a number');
  c.expect(SP, 'SP after VERSION');
  const timestamp = c.token('TIMESTAMP', 64);
  checkTimestamp(timestamp);
  c.expect(SP, 'SP after TIMESTAMP');
  const hostname = c.token('HOSTNAME', 255);
  c.expect(SP, 'SP after HOSTNAME');
  const appName = c.token('APP-NAME', 48);
  c.expect(SP, 'SP after APP-NAME');
  const procId = c.token('PROCID', 128);
  c.expect(SP, 'SP after PROCID');
  const msgId = c.token('MSGID', 32);
  c.expect(SP, 'SP after MSGID');
  const sd = structuredData(c);
  let bom = false;
  let msg: string | null = null;
  if (c.i < message.length) {
    c.expect(SP, 'SP before MSG');
    const rest = message.subarray(c.i);
    bom = rest.length >= 3 && rest[0] === 0xef && rest[1] === 0xbb && rest[2] === 0xbf;
    try {
      msg = bom ? utf8.decode(rest.subarray(3)) : rest.toString('utf8');
    } catch {
      c.fail('MSG after the BOM is not valid UTF-8');
    }
  }
  const pri = Number(priText);
  return { pri, facility: Math.floor(pri / 8), severity: pri % 8, version: Number(versionText), timestamp, hostname, appName, procId, msgId, structuredData: sd, bom, msg };
}

/**
 * RFC 6587 octet-counting: `MSG-LEN SP SYSLOG-MSG`, MSG-LEN = NONZERO-DIGIT *DIGIT octets.
 * Feed bytes as they arrive; every complete frame comes back, a malformed one throws.
 */
export class OctetCountingDecoder {
  private buffer = Buffer.alloc(0);

  constructor(private readonly maxLength = 1 << 20) {}

  push(chunk: Buffer): Buffer[] {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    const frames: Buffer[] = [];
    for (;;) {
      if (this.buffer.length === 0) return frames;
      const first = this.buffer[0]!;
      if (first < 0x31 || first > 0x39) throw new Error(`frame starts with 0x${first.toString(16)}, not a MSG-LEN digit 1-9`);
      let i = 1;
      while (i < this.buffer.length && this.buffer[i]! >= 0x30 && this.buffer[i]! <= 0x39) i += 1;
      if (i > String(this.maxLength).length) throw new Error(`MSG-LEN has more than ${String(this.maxLength).length} digits`);
      if (i === this.buffer.length) return frames;
      if (this.buffer[i] !== SP) throw new Error(`MSG-LEN is followed by 0x${this.buffer[i]!.toString(16)}, not SP`);
      const length = Number(this.buffer.toString('ascii', 0, i));
      if (length > this.maxLength) throw new Error(`MSG-LEN ${length} is over ${this.maxLength}`);
      if (this.buffer.length < i + 1 + length) return frames;
      frames.push(this.buffer.subarray(i + 1, i + 1 + length));
      this.buffer = this.buffer.subarray(i + 1 + length);
    }
  }

  /** Octets of an incomplete frame still held. */
  get pending(): number {
    return this.buffer.length;
  }
}

import net from 'node:net';

/** A response as the load generator needs it: the status and the body bytes. */
export interface RawResponse {
  readonly status: number;
  readonly body: Buffer;
}

const HEADER_END = Buffer.from('\r\n\r\n');

/**
 * Builds the bytes of one HTTP/1.1 request with a body, once, so the load generator only
 * writes them: `Content-Length` is set from the body.
 */
export function encodeRequest(method: string, url: URL, path: string, headers: Record<string, string>, body: Buffer): Buffer {
  const lines = [`${method} ${path} HTTP/1.1`, `host: ${url.host}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), `content-length: ${body.length}`];
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), body]);
}

/**
 * One keep-alive HTTP/1.1 connection that sends ready-made requests one at a time and reads
 * each response (status line, `content-length`, body). The ingest load generator runs 64 of
 * these on the same two cores as the server, so it does as little as a client can: no
 * header objects, no agent, one write per request. A response it cannot read (no
 * `content-length`, chunked, a closed connection) fails the request with the reason.
 */
export class RawHttpConnection {
  private readonly socket: net.Socket;
  private buffered: Buffer = Buffer.alloc(0);
  private waiter: { resolve: (r: RawResponse) => void; reject: (e: Error) => void } | null = null;
  private failure: Error | null = null;
  private readonly connected: Promise<void>;

  constructor(url: URL) {
    this.socket = net.connect({ host: url.hostname, port: Number(url.port), noDelay: true });
    this.connected = new Promise((resolve, reject) => {
      this.socket.once('connect', resolve);
      this.socket.once('error', reject);
    });
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', (err) => this.fail(err));
    this.socket.on('close', () => this.fail(new Error('the server closed the connection')));
  }

  /** Sends one request (see `encodeRequest`) and resolves with its response. */
  async send(request: Buffer): Promise<RawResponse> {
    await this.connected;
    if (this.failure) throw this.failure;
    if (this.waiter) throw new Error('one request at a time on a connection');
    return new Promise<RawResponse>((resolve, reject) => {
      this.waiter = { resolve, reject };
      this.socket.write(request);
    });
  }

  close(): void {
    this.failure ??= new Error('the connection is closed');
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const end = this.buffered.indexOf(HEADER_END);
    if (end < 0) return;
    const head = this.buffered.toString('latin1', 0, end);
    const status = Number(head.slice(9, 12));
    const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    if (!length || !(status >= 100)) {
      this.fail(new Error(`unreadable response (no content-length or status): ${head.slice(0, 200)}`));
      return;
    }
    const total = end + HEADER_END.length + Number(length[1]);
    if (this.buffered.length < total) return;
    const body = this.buffered.subarray(end + HEADER_END.length, total);
    this.buffered = this.buffered.subarray(total);
    const waiter = this.waiter;
    this.waiter = null;
    if (!waiter) this.fail(new Error(`a response arrived with no request waiting (status ${status})`));
    else waiter.resolve({ status, body });
  }

  private fail(err: Error): void {
    this.failure ??= err;
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.reject(err);
  }
}

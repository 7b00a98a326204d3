import http from 'node:http';

export interface HttpResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

export interface RequestOptions {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: Buffer | string;
}

/**
 * A small HTTP/1.1 client over keep-alive sockets (node:http), so the bench adds no
 * dependency and its own cost per request stays low and constant.
 */
export class HttpClient {
  private readonly agent: http.Agent;
  private readonly host: string;
  private readonly port: number;

  constructor(baseUrl: string, maxSockets = 64) {
    const u = new URL(baseUrl);
    this.host = u.hostname;
    this.port = Number(u.port);
    this.agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  }

  /** Sends a request and reads the whole body. */
  request(path: string, options: RequestOptions = {}): Promise<HttpResponse> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      this.send(path, options, (res) => {
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      }, reject);
    });
  }

  /**
   * Sends a request and hands each body chunk to `onChunk` without keeping it (exports of a
   * million rows); resolves with the status, headers and byte count once the body ends.
   */
  stream(path: string, options: RequestOptions, onChunk: (chunk: Buffer) => void): Promise<{ status: number; headers: http.IncomingHttpHeaders; bytes: number }> {
    return new Promise((resolve, reject) => {
      let bytes = 0;
      this.send(path, options, (res) => {
        res.on('data', (c: Buffer) => {
          bytes += c.length;
          onChunk(c);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, bytes }));
        res.on('error', reject);
      }, reject);
    });
  }

  close(): void {
    this.agent.destroy();
  }

  private send(path: string, options: RequestOptions, onResponse: (res: http.IncomingMessage) => void, onError: (err: Error) => void): void {
    const headers: Record<string, string | number> = { ...options.headers };
    if (options.body !== undefined) headers['content-length'] = Buffer.byteLength(options.body);
    const req = http.request({ agent: this.agent, host: this.host, port: this.port, path, method: options.method ?? 'GET', headers }, onResponse);
    req.on('error', onError);
    req.end(options.body);
  }
}

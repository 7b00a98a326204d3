import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';

export interface ReceivedCall {
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly status: number;
}

/** A local HTTP receiver that answers `failFirst` calls with 503, then 200, and keeps every call. */
export async function startWebhookReceiver(failFirst = 0): Promise<{ url: string; calls: ReceivedCall[]; close(): Promise<void>; setFailing(n: number): void }> {
  const calls: ReceivedCall[] = [];
  let failing = failFirst;
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const status = failing > 0 ? 503 : 200;
      if (failing > 0) failing -= 1;
      calls.push({ headers: req.headers, body, status });
      res.writeHead(status, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/hook`,
    calls,
    setFailing: (n) => void (failing = n),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

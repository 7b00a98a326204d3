import { createServer as createTcpServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { OctetCountingDecoder, parseRfc5424 } from './syslog-frame-parser.js';
import type { Rfc5424Message } from './syslog-frame-parser.js';

export interface ReceivedSyslog extends Rfc5424Message {
  /** Which accepted connection carried it (1, 2, …). */
  readonly connection: number;
  readonly raw: Buffer;
}

export interface SyslogReceiver {
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly messages: ReceivedSyslog[];
  /** Malformed frames and messages. Tests assert this stays empty (see `assertEveryFrameParsed`). */
  readonly errors: string[];
  /** Connections accepted (for TLS: handshakes completed). */
  connections(): number;
  /** Handshakes that failed (TLS): the client refused our certificate, or we refused it. */
  readonly tlsErrors: string[];
  /** Resolves once `n` messages have arrived; rejects after `timeoutMs`. */
  waitFor(n: number, timeoutMs?: number): Promise<void>;
  /** Destroys every open connection, as a receiver restart would. */
  dropConnections(): Promise<void>;
  /** Throws when any frame did not parse. */
  assertEveryFrameParsed(): void;
  close(): Promise<void>;
}

/**
 * A syslog receiver for tests: TCP (or TLS with `tls`) with RFC 6587 octet-counting framing
 * and RFC 5424 messages parsed strictly. A malformed frame is recorded in `errors` and its
 * connection is closed (the framing is lost), so a test fails on any frame that does not parse.
 */
export async function startSyslogReceiver(options: { port?: number; tls?: { key: string; cert: string } } = {}): Promise<SyslogReceiver> {
  const messages: ReceivedSyslog[] = [];
  const errors: string[] = [];
  const tlsErrors: string[] = [];
  const open = new Set<Socket>();
  const dropped = new WeakSet<Socket>();
  let accepted = 0;
  let waiters: Array<() => void> = [];

  const onConnection = (socket: Socket): void => {
    accepted += 1;
    const connection = accepted;
    open.add(socket);
    const decoder = new OctetCountingDecoder();
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const frame of decoder.push(chunk)) {
          try {
            messages.push({ ...parseRfc5424(frame), connection, raw: Buffer.from(frame) });
          } catch (err) {
            errors.push(`connection ${connection}: ${(err as Error).message}: ${JSON.stringify(frame.toString('utf8').slice(0, 300))}`);
          }
        }
      } catch (err) {
        errors.push(`connection ${connection}: ${(err as Error).message}`);
        socket.destroy();
      }
      const pending = waiters;
      waiters = [];
      for (const wake of pending) wake();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      open.delete(socket);
      if (decoder.pending > 0 && !dropped.has(socket)) errors.push(`connection ${connection}: closed in the middle of a frame (${decoder.pending} octets)`);
    });
  };

  let server: Server;
  if (options.tls) {
    const tlsServer = createTlsServer({ key: options.tls.key, cert: options.tls.cert }, onConnection);
    tlsServer.on('tlsClientError', (err) => tlsErrors.push(err.message));
    server = tlsServer;
  } else {
    server = createTcpServer(onConnection);
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as { port: number };

  return {
    host: '127.0.0.1',
    port,
    messages,
    errors,
    tlsErrors,
    connections: () => accepted,
    waitFor: async (n, timeoutMs = 5_000) => {
      const deadline = Date.now() + timeoutMs;
      while (messages.length < n) {
        if (errors.length > 0) throw new Error(`malformed syslog: ${errors.join('; ')}`);
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`expected ${n} syslog messages, got ${messages.length}`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(left, 100));
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    },
    dropConnections: async () => {
      const closing = [...open].map((s) => new Promise<void>((resolve) => {
        dropped.add(s);
        s.once('close', () => resolve());
        s.destroy();
      }));
      await Promise.all(closing);
    },
    assertEveryFrameParsed: () => {
      if (errors.length > 0) throw new Error(`malformed syslog: ${errors.join('; ')}`);
    },
    close: async () => {
      for (const s of open) {
        dropped.add(s);
        s.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

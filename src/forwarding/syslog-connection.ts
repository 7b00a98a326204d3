import { connect as tcpConnect, isIP } from 'node:net';
import type { Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

export interface SyslogEndpoint {
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  /** PEM certificates trusted instead of the system roots. */
  readonly ca: string | null;
}

export interface SyslogConnectionOptions {
  readonly connectTimeoutMs: number;
  /** A write not handed to the OS within this time (the receiver stopped reading) kills the connection. */
  readonly writeTimeoutMs: number;
  /** An unused connection is closed after this long; the next send opens a new one. */
  readonly idleMs: number;
}

/**
 * One TCP or TLS connection to a syslog receiver. Writes go out in call order. A write
 * resolves once its bytes were handed to the operating system without error: RFC 6587 and
 * RFC 5425 have no acknowledgement, so that is as far as a sender can know. Any error, a
 * close by the receiver, a stalled write or idleness ends the connection for good (`alive`
 * turns false); the owner opens a new one.
 */
export class SyslogConnection {
  private readonly socket: Socket;
  private readonly ready: Promise<Socket>;
  private ended: Error | undefined;
  private inFlight = 0;

  constructor(
    endpoint: SyslogEndpoint,
    private readonly options: SyslogConnectionOptions,
  ) {
    const { host, port } = endpoint;
    this.socket = endpoint.tls
      ? tlsConnect({ host, port, servername: isIP(host) === 0 ? host : undefined, ca: endpoint.ca ?? undefined, minVersion: 'TLSv1.2' })
      : tcpConnect({ host, port });
    const socket = this.socket;
    // An idle held connection must not keep the process alive; one with writes in flight does.
    socket.unref();
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 30_000);
    // Receivers send nothing, but reading is what makes a close by the receiver visible at once.
    socket.resume();
    this.ready = new Promise<Socket>((resolve, reject) => {
      const timer = setTimeout(() => socket.destroy(new Error(`no connection within ${options.connectTimeoutMs / 1000} s`)), options.connectTimeoutMs);
      timer.unref();
      socket.once(endpoint.tls ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        socket.setTimeout(options.idleMs);
        resolve(socket);
      });
      socket.on('error', (err) => {
        clearTimeout(timer);
        this.end(err);
        reject(err);
      });
      socket.on('close', () => {
        clearTimeout(timer);
        this.end(new Error('the receiver closed the connection'));
        reject(this.ended);
      });
    });
    this.ready.catch(() => undefined);
    socket.on('end', () => this.end(new Error('the receiver closed the connection')));
    socket.on('timeout', () => this.close());
  }

  get alive(): boolean {
    return this.ended === undefined;
  }

  /** Writes one frame; resolves when it was handed to the OS, rejects on any failure. */
  write(frame: Buffer): Promise<void> {
    if (this.ended) return Promise.reject(this.ended);
    this.inFlight += 1;
    this.socket.ref();
    const settled = (): void => {
      this.inFlight -= 1;
      if (this.inFlight === 0) this.socket.unref();
    };
    return this.ready.then(
      (socket) =>
        new Promise<void>((resolve, reject) => {
          if (this.ended) return reject(this.ended);
          const timer = setTimeout(() => {
            const err = new Error(`write not flushed within ${this.options.writeTimeoutMs / 1000} s`);
            this.end(err);
            socket.destroy(err);
            reject(err);
          }, this.options.writeTimeoutMs);
          timer.unref();
          socket.write(frame, (err) => {
            clearTimeout(timer);
            if (err) reject(err);
            else resolve();
          });
        }),
    ).finally(settled);
  }

  /** Ends the connection after what was written is flushed. */
  close(): void {
    this.end(new Error('the connection was closed'));
    this.socket.end();
  }

  private end(reason: Error): void {
    this.ended ??= reason;
  }
}

import type pg from 'pg';

/** The part of pg's connection a submittable query talks to. */
interface PgConnection {
  query(text: string): void;
}

/**
 * `COPY … TO STDOUT` over node-postgres without pg-copy-streams: a "submittable" query
 * (the hook pg-copy-streams and pg-cursor use) that hands each CopyData payload to
 * `onChunk` as it arrives. Resolves once the server is ready for the next query.
 */
export function copyOut(client: pg.Client, sql: string, onChunk: (chunk: Buffer) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let failed: Error | null = null;
    const submittable = {
      submit(connection: PgConnection): void {
        connection.query(sql);
      },
      handleCopyData(msg: { chunk: Buffer }): void {
        onChunk(msg.chunk);
      },
      handleCommandComplete(): void {},
      handleRowDescription(): void {},
      handleDataRow(): void {},
      handleEmptyQuery(): void {},
      handlePortalSuspended(): void {},
      handleCopyInResponse(): void {},
      handleError(err: Error): void {
        failed = err;
      },
      handleReadyForQuery(): void {
        if (failed) reject(failed);
        else resolve();
      },
    };
    (client as unknown as { query(q: unknown): void }).query(submittable);
  });
}

/** Splits a byte stream into LF-terminated records, handing each (without the LF) to `onLine`. */
export function lineSplitter(onLine: (line: Buffer) => void): { push(chunk: Buffer): void; end(): void } {
  let carry: Buffer | null = null;
  return {
    push(chunk) {
      const buf = carry ? Buffer.concat([carry, chunk]) : chunk;
      let start = 0;
      for (let i = buf.indexOf(10, start); i !== -1; i = buf.indexOf(10, start)) {
        onLine(buf.subarray(start, i));
        start = i + 1;
      }
      carry = start < buf.length ? Buffer.from(buf.subarray(start)) : null;
    },
    end() {
      if (carry && carry.length > 0) onLine(carry);
      carry = null;
    },
  };
}

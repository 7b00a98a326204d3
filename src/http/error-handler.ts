import type { FastifyError, FastifyInstance } from 'fastify';
import { AppError } from '../lib/errors.js';

interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

const body = (code: string, message: string, details?: unknown): ErrorBody => ({ error: details === undefined ? { code, message } : { code, message, details } });

/** Errors from a database that is down, full or read-only: the request may succeed later. */
function isStoreUnavailable(err: unknown): boolean {
  const e = err as { code?: unknown; name?: unknown; constructor?: { name?: string } };
  const code = typeof e.code === 'string' ? e.code : '';
  return (
    e.constructor?.name === 'SqliteError' && /^SQLITE_(BUSY|LOCKED|IOERR|FULL|READONLY|CANTOPEN|CORRUPT|NOTADB|PROTOCOL)/.test(code)
  ) || /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|57P0[1-3]|08\d{3}|53\d{3})$/.test(code)
    || (err instanceof Error && /Connection terminated|connection timeout|Client has encountered a connection error|pool is ending/i.test(err.message));
}

/**
 * Renders every failure as `{ error: { code, message, details? } }`. Unexpected errors are
 * logged with the request id and answered without internals (no stack, no SQL).
 */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    // A route may have set a file's headers before it failed: an error is always JSON.
    void reply.type('application/json; charset=utf-8').removeHeader('content-disposition');
    if (err instanceof AppError) {
      if (err.code === 'rate_limited' && typeof (err.details as { retry_after?: number } | undefined)?.retry_after === 'number') {
        void reply.header('Retry-After', String((err.details as { retry_after: number }).retry_after));
      }
      return reply.status(err.status).send(body(err.code, err.message, err.details));
    }
    if (err.validation) {
      const first = err.validation[0];
      const field = `${err.validationContext ?? 'request'}${first?.instancePath ?? ''}`.replaceAll('/', '.');
      return reply.status(400).send(body('validation_failed', err.message, { field }));
    }
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return reply.status(413).send(body('payload_too_large', 'Request body is too large.'));
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return reply.status(415).send(body('unsupported_media_type', 'Send the body as application/json.'));
    if (err.statusCode === 429) return reply.status(429).send(body('rate_limited', err.message));
    if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
      return reply.status(err.statusCode).send(body('bad_request', err.message.replace(/\s+at .*/s, '')));
    }
    if (err.code === '22021' || err.code === '22P05') {
      return reply.status(400).send(body('validation_failed', 'Text must not contain NUL characters or invalid byte sequences.'));
    }
    if (isStoreUnavailable(err)) {
      request.log.error({ err: { message: err.message, code: err.code } }, 'store unavailable');
      return reply.status(503).send(body('store_unavailable', 'The audit store is unavailable; nothing was changed. Try again shortly.'));
    }
    request.log.error({ err }, 'unexpected error');
    return reply.status(500).send(body('internal', `Internal error (request ${request.id}).`));
  });
  app.setNotFoundHandler((request, reply) => reply.status(404).send(body('not_found', `No route ${request.method} ${request.url.split('?')[0]}`)));
}

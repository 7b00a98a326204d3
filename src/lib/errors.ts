/**
 * The error catalog: every failure a client can see has a stable code and HTTP status and is
 * rendered as `{ error: { code, message, details? } }`. Services throw these, never
 * framework exceptions.
 */
export const ERROR_CODES = {
  validation_failed: 400,
  unauthenticated: 401,
  csrf_failed: 403,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  account_locked: 423,
  rate_limited: 429,
  internal: 500,
  store_unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'AppError';
    this.status = ERROR_CODES[code];
  }
}

export const invalid = (message: string, details?: unknown): AppError => new AppError('validation_failed', message, details);
export const notFound = (what: string): AppError => new AppError('not_found', `${what} not found`);

import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import { AppError } from '../lib/errors.js';
import { sha256Hex } from '../lib/secrets.js';
import { SESSION_COOKIE } from './auth-hook.js';

/** Requests per minute for each route group. */
export interface RateLimits {
  /** Sign-in attempts per client IP. */
  readonly loginPerMinute: number;
  /** Event ingest requests per API token. */
  readonly ingestPerMinute: number;
  /** Every other route, per caller (token or session; IP when anonymous). */
  readonly apiPerMinute: number;
}

export const DEFAULT_RATE_LIMITS: RateLimits = { loginPerMinute: 20, ingestPerMinute: 600_000, apiPerMinute: 1_200 };

type Group = 'login' | 'ingest' | 'api';

function groupOf(route: Pick<RouteOptions, 'url' | 'method'>): Group {
  if (route.url === '/api/auth/login') return 'login';
  if (route.url === '/api/audit/events') return 'ingest';
  return 'api';
}

/** The caller a limit counts against: the credential presented, else the client IP. */
function callerKey(request: FastifyRequest): string {
  const auth = request.headers.authorization;
  if (typeof auth === 'string' && auth.length > 0) return credentialKey(auth, 't');
  const session = request.cookies?.[SESSION_COOKIE];
  return session ? credentialKey(session, 's') : `ip:${request.ip}`;
}

/**
 * The key of a presented credential: a hash, so no secret sits in the limiter's store. The
 * same few credentials arrive again and again, so recent keys are remembered (a bounded map,
 * emptied when full) instead of hashed on every request.
 */
const recentKeys = new Map<string, string>();
function credentialKey(credential: string, kind: 't' | 's'): string {
  const memo = `${kind}${credential}`;
  let key = recentKeys.get(memo);
  if (key === undefined) {
    key = `${kind}:${sha256Hex(credential)}`;
    if (recentKeys.size >= 1_024) recentKeys.clear();
    recentKeys.set(memo, key);
  }
  return key;
}

/**
 * Per-route-group rate limits (@fastify/rate-limit, in memory per node), with
 * `Retry-After` and `X-RateLimit-*` headers; each route's limit is written into /docs.
 */
export async function installRateLimits(app: FastifyInstance, limits: RateLimits): Promise<void> {
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/docs') || route.config?.rateLimit === false) return;
    const group = groupOf(route);
    const max = group === 'login' ? limits.loginPerMinute : group === 'ingest' ? limits.ingestPerMinute : limits.apiPerMinute;
    const per = group === 'login' ? 'client IP' : group === 'ingest' ? 'API token' : 'caller (token, session, or IP)';
    route.config = {
      ...route.config,
      rateLimit: { max, timeWindow: 60_000, groupId: group, keyGenerator: group === 'login' ? (r: FastifyRequest) => `ip:${r.ip}` : callerKey },
    } as typeof route.config;
    if (route.schema) {
      const schema = route.schema as Record<string, unknown>;
      schema.description = [schema.description, `**Rate limit:** ${max} requests per minute per ${per} (group \`${group}\`); over it: 429 with Retry-After.`].filter(Boolean).join('\n\n');
      schema['x-rate-limit'] = { group, per_minute: max, per };
    }
  });
  await app.register(rateLimit, {
    global: false,
    errorResponseBuilder: (_req, ctx) => new AppError('rate_limited', `Too many requests: limit ${ctx.max} per minute. Retry after ${ctx.after}.`, { retry_after: Math.ceil(ctx.ttl / 1000) }),
  });
}

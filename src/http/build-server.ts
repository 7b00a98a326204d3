import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import cookie from '@fastify/cookie';
import swagger from '@fastify/swagger';
import helmet from 'helmet';
import type { HelmetOptions } from 'helmet';
import swaggerUi from '@fastify/swagger-ui';
import { alertRuleRoutes } from '../alerts/alert-rule.routes.js';
import type { Core } from '../app.js';
import { AuditEntrySchema } from '../audit/audit.schemas.js';
import { auditRoutes } from '../audit/audit.routes.js';
import { auditLiveRoutes } from '../audit/audit-live.routes.js';
import { authRoutes } from '../auth/auth.routes.js';
import { settingsRoutes } from '../settings/settings.routes.js';
import { subscriptionRoutes } from '../subscriptions/subscription.routes.js';
import { tokenRoutes } from '../tokens/token.routes.js';
import { userRoutes } from '../users/user.routes.js';
import { VERSION } from '../version.js';
import { checkpointRoutes } from '../checkpoints/checkpoint.routes.js';
import { exportRoutes } from '../export/export.routes.js';
import { healthRoutes } from '../health/health.routes.js';
import { Readiness } from '../health/readiness.js';
import { metricsRoutes } from '../metrics/metrics.routes.js';
import { installAuth } from './auth-hook.js';
import { installErrorHandler } from './error-handler.js';
import { registerWebUi } from './web-ui.js';
import type { RateLimits } from './rate-limits.js';
import { DEFAULT_RATE_LIMITS, installRateLimits } from './rate-limits.js';
import './fastify-types.js';

/** Helmet's settings for every response. */
export const SECURITY_HEADER_POLICY: HelmetOptions = {
  // The API docs page loads its own scripts and styles from /docs/static.
  contentSecurityPolicy: { directives: { defaultSrc: ["'self'"], imgSrc: ["'self'", 'data:'], styleSrc: ["'self'", "'unsafe-inline'"], scriptSrc: ["'self'"] } },
  strictTransportSecurity: false,
};

/**
 * The headers helmet sets (and removes), taken from one run of its middleware against a
 * recording response. Our policy has nothing per request (no CSP nonces), so one run says it
 * all; running helmet's dozen middlewares on every request cost a measurable share of a small
 * ingest request. A test holds a served response's headers equal to helmet's own.
 */
export function securityHeaders(): { set: Array<[string, string | number | readonly string[]]>; removed: string[] } {
  const middleware = helmet(SECURITY_HEADER_POLICY);
  const set: Array<[string, string | number | readonly string[]]> = [];
  const removed: string[] = [];
  const response = {
    setHeader: (name: string, value: string | number | readonly string[]) => void set.push([name, value]),
    removeHeader: (name: string) => void removed.push(name),
  };
  let error: unknown = null;
  middleware({} as IncomingMessage, response as unknown as ServerResponse, (err?: unknown) => void (error = err ?? null));
  if (error) throw new Error(`security headers: ${String(error)}`);
  return { set, removed };
}

export interface ServerOptions {
  readonly logLevel?: string;
  readonly trustProxy?: boolean;
  readonly bodyLimitBytes?: number;
  readonly rateLimits?: RateLimits;
  /** Bearer token required at /metrics; without one only loopback clients may scrape. */
  readonly metricsToken?: string;
  /** Where service logs go (stderr by default). */
  readonly logStream?: NodeJS.WritableStream;
}

/**
 * Assembles the HTTP server: plugins, the uniform error body, authentication and every
 * module's routes. Logs go to stderr; stdout is kept for the audit trail itself.
 */
export async function buildServer(core: Core, options: ServerOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logLevel === 'silent' ? false : {
      level: options.logLevel ?? 'info',
      stream: options.logStream ?? process.stderr,
      redact: ['req.headers.authorization', 'req.headers.cookie', 'req.headers["x-csrf-token"]'],
    },
    genReqId: () => randomUUID(),
    // One line per request, written by the onResponse hook below (Fastify's own request
    // logging writes two).
    disableRequestLogging: true,
    // A client that stopped reading must not hold a shutdown open.
    forceCloseConnections: true,
    // Errors Fastify raises before routing (a malformed URL, say) get the uniform body too.
    frameworkErrors: (err, _request, reply) => {
      const raw = reply as unknown as { code(n: number): { type(t: string): { send(b: string): unknown } } };
      void raw.code(400).type('application/json').send(JSON.stringify({ error: { code: 'bad_request', message: err.message.replace(/\s+at .*/s, '') } }));
    },
    requestIdHeader: false,
    trustProxy: options.trustProxy ?? false,
    bodyLimit: options.bodyLimitBytes ?? 5 * 1024 * 1024,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false } },
  });
  // Hooks on every request are callback style: an async hook costs a promise per request.
  app.addHook('onResponse', (request, reply, done) => {
    const status = reply.statusCode;
    // Accepted ingest requests are recorded in the trail itself; logging each one at info
    // would double the work of the busiest route for no new information.
    const level = status >= 500 ? 'error' : status < 400 && request.routeOptions.config?.quietLog ? 'debug' : 'info';
    request.log[level]({ method: request.method, url: request.url, statusCode: status, responseTime: Math.round(reply.elapsedTime * 10) / 10 }, 'request');
    done();
  });
  installErrorHandler(app);
  app.addSchema(AuditEntrySchema);
  await app.register(cookie);
  // Security headers: helmet's, worked out once at start-up and then set on every response.
  const headers = securityHeaders();
  app.addHook('onRequest', (request, reply, done) => {
    for (const [name, value] of headers.set) reply.raw.setHeader(name, value);
    for (const name of headers.removed) reply.raw.removeHeader(name);
    reply.raw.setHeader('X-Request-Id', request.id);
    done();
  });
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Trailmark API',
        version: VERSION,
        description: 'Tamper-evident audit trail. Every error body is { "error": { "code", "message", "details"? } }. Each operation states who may call it.',
      },
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: 'trailmark_session', description: 'Session cookie from POST /api/auth/login; writes also need X-CSRF-Token.' },
          bearer: { type: 'http', scheme: 'bearer', description: 'API token (tm_…) from POST /api/tokens.' },
        },
      },
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  installAuth(app, core.auth);
  await installRateLimits(app, options.rateLimits ?? DEFAULT_RATE_LIMITS);

  const secureCookies = (protocol: string): boolean => protocol === 'https';
  await app.register(async (scope) => {
    auditRoutes(scope, { service: core.audit, catalog: core.catalog });
    auditLiveRoutes(scope, { service: core.audit, store: core.auditStore, recorder: core.recorder });
    authRoutes(scope, { auth: core.auth, secureCookies, auditorsMayExport: async () => (await core.settings.get()).auditors_may_export });
    tokenRoutes(scope, { service: core.tokens });
    userRoutes(scope, { service: core.users, now: () => core.clock.now() });
    settingsRoutes(scope, { service: core.settings });
    subscriptionRoutes(scope, { service: core.subscriptions });
    alertRuleRoutes(scope, { service: core.alertRules, deliveries: core.deliveries });
    checkpointRoutes(scope, { checkpoints: core.checkpoints, keys: core.signingKeys });
    exportRoutes(scope, { service: core.exports });
    healthRoutes(scope, { readiness: new Readiness(core) });
    metricsRoutes(scope, { core, metricsToken: options.metricsToken });
  });
  await registerWebUi(app);
  return app;
}

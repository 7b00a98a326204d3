import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import cookie from '@fastify/cookie';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Core } from '../app.js';
import { AuditEntrySchema } from '../audit/audit.schemas.js';
import { auditRoutes } from '../audit/audit.routes.js';
import { authRoutes } from '../auth/auth.routes.js';
import { tokenRoutes } from '../tokens/token.routes.js';
import { VERSION } from '../version.js';
import { installAuth } from './auth-hook.js';
import { installErrorHandler } from './error-handler.js';
import './fastify-types.js';

export interface ServerOptions {
  readonly logLevel?: string;
  readonly trustProxy?: boolean;
  readonly bodyLimitBytes?: number;
}

/**
 * Assembles the HTTP server: plugins, the uniform error body, authentication and every
 * module's routes. Logs go to stderr; stdout is kept for the audit trail itself.
 */
export async function buildServer(core: Core, options: ServerOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logLevel === 'silent' ? false : {
      level: options.logLevel ?? 'info',
      stream: process.stderr,
      redact: ['req.headers.authorization', 'req.headers.cookie', 'req.headers["x-csrf-token"]'],
    },
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    trustProxy: options.trustProxy ?? false,
    bodyLimit: options.bodyLimitBytes ?? 5 * 1024 * 1024,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false } },
  });
  app.addHook('onSend', async (request, reply) => {
    void reply.header('X-Request-Id', request.id);
  });
  installErrorHandler(app);
  app.addSchema(AuditEntrySchema);
  await app.register(cookie);
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

  const secureCookies = (protocol: string): boolean => protocol === 'https';
  await app.register(async (scope) => {
    auditRoutes(scope, { service: core.audit, catalog: core.catalog });
    authRoutes(scope, { auth: core.auth, secureCookies });
    tokenRoutes(scope, { service: core.tokens });
  });
  return app;
}

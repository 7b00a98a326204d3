import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AccessRule, Principal } from '../auth/access.js';
import { admits, describeRule } from '../auth/access.js';
import type { AuthService } from '../auth/auth.service.js';
import { AppError } from '../lib/errors.js';
import { safeEqual } from '../lib/secrets.js';

export const SESSION_COOKIE = 'trailmark_session';
const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Routes served by plugins (API docs, static UI) that are public by nature. */
const PLUGIN_PUBLIC_PREFIXES = ['/docs'];

/**
 * Authentication and authorization for every route. Each route declares its `access` rule
 * (the server refuses to start with one that does not); the rule is also written into the
 * OpenAPI document. Cookie-authenticated writes must carry the session's CSRF token.
 */
export function installAuth(app: FastifyInstance, auth: AuthService): void {
  app.addHook('onRoute', (route) => {
    const rule = route.config?.access;
    if (!rule) {
      if (PLUGIN_PUBLIC_PREFIXES.some((p) => route.url.startsWith(p)) || route.url === '*' || route.url === '/*') {
        route.config = { ...route.config, access: 'public' };
        return;
      }
      throw new Error(`route ${route.method} ${route.url} declares no access rule`);
    }
    if (route.schema) {
      const schema = route.schema as Record<string, unknown>;
      schema.description = [schema.description, `**Access:** ${describeRule(rule)}`].filter(Boolean).join('\n\n');
      if (rule !== 'public') {
        const security: Array<Record<string, string[]>> = [];
        if (rule.roles.length > 0) security.push({ session: [] });
        if (rule.scopes.length > 0) security.push({ bearer: [...rule.scopes] });
        schema.security = security;
        schema['x-access'] = rule;
      }
    }
  });

  app.addHook('onRequest', async (request) => {
    const rule = request.routeOptions.config?.access ?? 'public';
    if (rule === 'public') return;
    const principal = await authenticate(request, auth);
    if (!principal) throw new AppError('unauthenticated', 'Sign in or send an API token.');
    if (principal.kind === 'user' && UNSAFE_METHODS.has(request.method)) {
      const sent = request.headers['x-csrf-token'];
      if (typeof sent !== 'string' || !safeEqual(sent, principal.csrfToken)) {
        throw new AppError('csrf_failed', 'Missing or wrong X-CSRF-Token header (use the csrf_token from sign-in).');
      }
    }
    if (!admits(rule, principal)) throw new AppError('forbidden', forbiddenMessage(rule, principal));
    request.principal = principal;
  });
}

async function authenticate(request: FastifyRequest, auth: AuthService): Promise<Principal | undefined> {
  const header = request.headers.authorization;
  if (typeof header === 'string' && header.length > 0) {
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    return m ? auth.fromBearer(m[1]!) : undefined;
  }
  const cookie = request.cookies?.[SESSION_COOKIE];
  return cookie ? auth.fromSessionCookie(cookie) : undefined;
}

function forbiddenMessage(rule: Exclude<AccessRule, 'public'>, principal: Principal): string {
  return principal.kind === 'user'
    ? `Role '${principal.role}' may not do this. ${describeRule(rule)}`
    : `This API token's scopes (${principal.scopes.join(', ') || 'none'}) do not allow this. ${describeRule(rule)}`;
}

/** The principal of an authenticated route (the hook guarantees it). */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new AppError('unauthenticated', 'Sign in or send an API token.');
  return request.principal;
}

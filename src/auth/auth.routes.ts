import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ALL_ROLES, ROLES, SCOPES } from './access.js';
import type { AuthService } from './auth.service.js';
import { ErrorResponse, errorResponses } from '../http/common.schemas.js';
import { SESSION_COOKIE, principalOf } from '../http/auth-hook.js';
import { clientOf } from '../http/request-context.js';

const Me = Type.Union([
  Type.Object({
    kind: Type.Literal('user'), id: Type.String(), username: Type.String(), role: Type.Enum(ROLES), csrf_token: Type.String(),
    may_export: Type.Boolean({ description: 'Whether this user may export (admins; auditors when the setting allows)' }),
  }),
  Type.Object({ kind: Type.Literal('token'), id: Type.String(), name: Type.String(), scopes: Type.Array(Type.Enum(SCOPES)) }),
]);

export function authRoutes(app: FastifyInstance, deps: { auth: AuthService; secureCookies: (protocol: string) => boolean; auditorsMayExport: () => Promise<boolean> }): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.post('/api/auth/login', {
    config: { access: 'public' },
    schema: {
      tags: ['auth'],
      summary: 'Sign in',
      description: 'Sets an HttpOnly, SameSite=Strict session cookie. The body carries csrf_token: send it as X-CSRF-Token on every cookie-authenticated write. 401 for a wrong username or password (the same answer for both), 423 while the account is locked.',
      body: Type.Object({ username: Type.String({ minLength: 1, maxLength: 256 }), password: Type.String({ minLength: 1, maxLength: 1024 }) }, { additionalProperties: false }),
      response: {
        200: Type.Object({ user: Type.Object({ id: Type.String(), username: Type.String(), role: Type.String() }), csrf_token: Type.String() }),
        400: ErrorResponse, 401: ErrorResponse, 423: ErrorResponse, 429: ErrorResponse, 503: ErrorResponse,
      },
    },
  }, async (request, reply) => {
    const result = await deps.auth.login(request.body.username, request.body.password, clientOf(request));
    void reply.setCookie(SESSION_COOKIE, result.cookie, {
      httpOnly: true, sameSite: 'strict', path: '/', secure: deps.secureCookies(request.protocol),
    });
    return { user: result.user, csrf_token: result.csrfToken };
  });

  r.post('/api/auth/logout', {
    config: { access: { roles: ALL_ROLES, scopes: [] } },
    schema: { tags: ['auth'], summary: 'Sign out (ends the session)', response: { 204: Type.Null(), ...errorResponses } },
  }, async (request, reply) => {
    const p = principalOf(request);
    if (p.kind === 'user') await deps.auth.logout(p, clientOf(request));
    void reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.status(204).send(null);
  });

  r.get('/api/auth/me', {
    config: { access: { roles: ALL_ROLES, scopes: ['audit:read', 'audit:write'] } },
    schema: { tags: ['auth'], summary: 'Who is calling', response: { 200: Me, ...errorResponses } },
  }, async (request) => {
    const p = principalOf(request);
    return p.kind === 'user'
      ? { kind: 'user' as const, id: p.userId, username: p.username, role: p.role, csrf_token: p.csrfToken, may_export: p.role === 'admin' || (p.role === 'auditor' && (await deps.auditorsMayExport())) }
      : { kind: 'token' as const, id: p.tokenId, name: p.name, scopes: [...p.scopes] };
  });
}

import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { SCOPES } from '../auth/access.js';
import { ErrorResponse, errorResponses } from '../http/common.schemas.js';
import { contextOf } from '../http/request-context.js';
import type { TokenRecord } from './token.store.js';
import type { TokenService } from './token.service.js';

const ADMIN = { roles: ['admin'], scopes: [] } as const;
const Scope = Type.Enum(SCOPES);
const TokenInfo = Type.Object({
  id: Type.String(),
  name: Type.String(),
  scopes: Type.Array(Scope),
  created_by: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String(),
  revoked_at: Type.Union([Type.String(), Type.Null()]),
  last_used_at: Type.Union([Type.String(), Type.Null()]),
});

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
const present = (t: TokenRecord) => ({ ...t, created_at: new Date(t.created_at).toISOString(), revoked_at: iso(t.revoked_at), last_used_at: iso(t.last_used_at) });

export function tokenRoutes(app: FastifyInstance, deps: { service: TokenService }): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.post('/api/tokens', {
    config: { access: ADMIN },
    schema: {
      tags: ['tokens'],
      summary: 'Create an API token',
      description: 'The token is in this answer only; Trailmark keeps just its hash. Audited as auth.token.created.',
      body: Type.Object(
        { name: Type.String({ minLength: 1, maxLength: 128, pattern: '^[^\\u0000-\\u001f\\u007f]+$' }), scopes: Type.Array(Scope, { minItems: 1, maxItems: 2 }) },
        { additionalProperties: false },
      ),
      response: { 201: Type.Object({ id: Type.String(), token: Type.String(), name: Type.String(), scopes: Type.Array(Scope) }), ...errorResponses },
    },
  }, async (request, reply) => {
    const { record, token } = await deps.service.create(request.body.name, request.body.scopes, contextOf(request));
    return reply.status(201).send({ id: record.id, token, name: record.name, scopes: record.scopes });
  });

  r.get('/api/tokens', {
    config: { access: ADMIN },
    schema: { tags: ['tokens'], summary: 'List API tokens (never their secrets)', response: { 200: Type.Object({ tokens: Type.Array(TokenInfo) }), ...errorResponses } },
  }, async () => ({ tokens: (await deps.service.list()).map(present) }));

  r.delete('/api/tokens/:id', {
    config: { access: ADMIN },
    schema: {
      tags: ['tokens'],
      summary: 'Revoke an API token',
      params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }),
      response: { 204: Type.Null(), ...errorResponses, 404: ErrorResponse },
    },
  }, async (request, reply) => {
    await deps.service.revoke(request.params.id, contextOf(request));
    return reply.status(204).send(null);
  });
}

import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ALL_ROLES, ROLES } from '../auth/access.js';
import { principalOf } from '../http/auth-hook.js';
import { ErrorResponse, errorResponses } from '../http/common.schemas.js';
import { contextOf } from '../http/request-context.js';
import { AppError } from '../lib/errors.js';
import type { UserRecord } from './user.store.js';
import type { UserService } from './user.service.js';

const ADMIN = { roles: ['admin'], scopes: [] } as const;
const Role = Type.Enum(ROLES);
const Password = Type.String({ minLength: 12, maxLength: 1024, description: 'At least 12 characters' });
const UserSchema = Type.Object({
  id: Type.String(),
  username: Type.String(),
  role: Role,
  disabled: Type.Boolean(),
  locked_until: Type.Union([Type.String(), Type.Null()], { description: 'Set while sign-in is locked' }),
  created_at: Type.String(),
  updated_at: Type.String(),
});
const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

export const presentUser = (u: UserRecord, now = Date.now()) => ({
  id: u.id,
  username: u.username,
  role: u.role,
  disabled: u.disabled,
  locked_until: u.locked_until !== null && u.locked_until > now ? new Date(u.locked_until).toISOString() : null,
  created_at: new Date(u.created_at).toISOString(),
  updated_at: new Date(u.updated_at).toISOString(),
});

export function userRoutes(app: FastifyInstance, deps: { service: UserService; now: () => number }): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { service } = deps;

  r.get('/api/users', {
    config: { access: ADMIN },
    schema: { tags: ['users'], summary: 'List users', response: { 200: Type.Object({ users: Type.Array(UserSchema) }), ...errorResponses } },
  }, async () => ({ users: (await service.list()).map((u) => presentUser(u, deps.now())) }));

  r.post('/api/users', {
    config: { access: ADMIN },
    schema: {
      tags: ['users'],
      summary: 'Create a user',
      description: 'Audited as user.created (username, role, created by).',
      body: Type.Object({ username: Type.String({ minLength: 1, maxLength: 64 }), password: Password, role: Role }, { additionalProperties: false }),
      response: { 201: UserSchema, ...errorResponses, 409: ErrorResponse },
    },
  }, async (request, reply) => {
    const ctx = contextOf(request);
    const p = principalOf(request);
    const actor = p.kind === 'user' ? { type: 'user' as const, id: p.userId, name: p.username } : { type: 'worker' as const, id: p.tokenId, name: p.name };
    const user = await service.create(request.body, actor, ctx);
    return reply.status(201).send(presentUser(user, deps.now()));
  });

  r.patch('/api/users/:id', {
    config: { access: ADMIN },
    schema: {
      tags: ['users'],
      summary: 'Change role, reset password, disable, or unlock a user',
      description: 'Audited as user.updated (changed fields with old and new values; for a password only that it changed) and auth.account.unlocked. A password reset or disabling ends the user’s sessions. The last enabled admin cannot be demoted or disabled (409).',
      params: IdParams,
      body: Type.Object(
        { role: Type.Optional(Role), password: Type.Optional(Password), disabled: Type.Optional(Type.Boolean()), unlock: Type.Optional(Type.Literal(true)) },
        { additionalProperties: false, minProperties: 1 },
      ),
      response: { 200: UserSchema, ...errorResponses, 404: ErrorResponse, 409: ErrorResponse },
    },
  }, async (request) => presentUser(await service.update(request.params.id, request.body, contextOf(request)), deps.now()));

  r.delete('/api/users/:id', {
    config: { access: ADMIN },
    schema: {
      tags: ['users'],
      summary: 'Delete a user',
      description: 'Audited as user.deleted; the user’s sessions end. The last enabled admin, and your own account, cannot be deleted (409).',
      params: IdParams,
      response: { 204: Type.Null(), ...errorResponses, 404: ErrorResponse, 409: ErrorResponse },
    },
  }, async (request, reply) => {
    await service.delete(request.params.id, contextOf(request));
    return reply.status(204).send(null);
  });

  r.post('/api/auth/password', {
    config: { access: { roles: ALL_ROLES, scopes: [] } },
    schema: {
      tags: ['auth'],
      summary: 'Change your own password',
      description: 'Your other sessions end. Audited as user.updated (password changed).',
      body: Type.Object({ current_password: Type.String({ minLength: 1, maxLength: 1024 }), new_password: Password }, { additionalProperties: false }),
      response: { 204: Type.Null(), ...errorResponses },
    },
  }, async (request, reply) => {
    const p = principalOf(request);
    if (p.kind !== 'user') throw new AppError('forbidden', 'Only a signed-in user has a password.');
    await service.changeOwnPassword(p, request.body.current_password, request.body.new_password, contextOf(request));
    return reply.status(204).send(null);
  });
}

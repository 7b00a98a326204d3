import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ALL_ROLES } from '../auth/access.js';
import { ErrorResponse, errorResponses } from '../http/common.schemas.js';
import { contextOf } from '../http/request-context.js';
import type { Subscription, SubscriptionService } from './subscription.service.js';

const MANAGERS = { roles: ['admin', 'operator'], scopes: [] } as const;
const SubscriptionSchema = Type.Object({ subscription_id: Type.String(), display_name: Type.Union([Type.String(), Type.Null()]), added_by: Type.String(), created_at: Type.String() });
const present = (s: Subscription) => ({ ...s, created_at: new Date(s.created_at).toISOString() });

export function subscriptionRoutes(app: FastifyInstance, deps: { service: SubscriptionService }): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.get('/api/subscriptions', {
    config: { access: { roles: ALL_ROLES, scopes: [] } },
    schema: { tags: ['subscriptions'], summary: 'Watched subscriptions', response: { 200: Type.Object({ subscriptions: Type.Array(SubscriptionSchema) }), ...errorResponses } },
  }, async () => ({ subscriptions: (await deps.service.list()).map(present) }));

  r.post('/api/subscriptions', {
    config: { access: MANAGERS },
    schema: {
      tags: ['subscriptions'],
      summary: 'Watch a subscription',
      description: 'Audited as subscription.added.',
      body: Type.Object(
        { subscription_id: Type.String({ minLength: 1, maxLength: 64, description: 'GUID' }), display_name: Type.Optional(Type.String({ minLength: 1, maxLength: 256, pattern: '^[^\\u0000-\\u001f\\u007f]+$' })) },
        { additionalProperties: false },
      ),
      response: { 201: SubscriptionSchema, ...errorResponses, 409: ErrorResponse },
    },
  }, async (request, reply) => reply.status(201).send(present(await deps.service.add(request.body, contextOf(request)))));

  r.delete('/api/subscriptions/:id', {
    config: { access: MANAGERS },
    schema: {
      tags: ['subscriptions'],
      summary: 'Stop watching a subscription',
      description: 'Audited as subscription.removed.',
      params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }),
      response: { 204: Type.Null(), ...errorResponses, 404: ErrorResponse },
    },
  }, async (request, reply) => {
    await deps.service.remove(request.params.id, contextOf(request));
    return reply.status(204).send(null);
  });
}

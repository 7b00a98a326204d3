import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ALL_ROLES } from '../auth/access.js';
import { ErrorResponse, errorResponses } from '../http/common.schemas.js';
import { contextOf } from '../http/request-context.js';
import { presentRule } from './alert-rule.js';
import { CreateRuleBody, PatchRuleBody, RuleResponse, channelSchemaError } from './alert-rule.schemas.js';
import type { AlertRuleService } from './alert-rule.service.js';
import type { DeliveriesService } from '../forwarding/deliveries.service.js';

const MANAGERS = { roles: ['admin', 'operator'], scopes: [] } as const;
const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

export function alertRuleRoutes(app: FastifyInstance, deps: { service: AlertRuleService; deliveries: DeliveriesService }): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { service } = deps;

  r.get('/api/alert-rules', {
    config: { access: { roles: ALL_ROLES, scopes: [] } },
    schema: { tags: ['alert rules'], summary: 'List alert rules (secrets never shown)', response: { 200: Type.Object({ rules: Type.Array(RuleResponse) }), ...errorResponses } },
  }, async () => ({ rules: (await service.list()).map(presentRule) }));

  r.post('/api/alert-rules', {
    config: { access: MANAGERS },
    preValidation: async (request) => {
      const error = channelSchemaError(request.body, 'full');
      if (error) throw error;
    },
    schema: {
      tags: ['alert rules'],
      summary: 'Create an alert rule',
      description: 'channel is a webhook (`type: webhook`) or a syslog receiver (`type: syslog`). Audited as alert.rule.created with the rule, its secret and header values redacted.',
      body: CreateRuleBody,
      response: { 201: RuleResponse, ...errorResponses },
    },
  }, async (request, reply) => reply.status(201).send(presentRule(await service.create(request.body, contextOf(request)))));

  r.get('/api/alert-rules/:id', {
    config: { access: { roles: ALL_ROLES, scopes: [] } },
    schema: { tags: ['alert rules'], summary: 'One alert rule', params: IdParams, response: { 200: RuleResponse, ...errorResponses, 404: ErrorResponse } },
  }, async (request) => presentRule(await service.get(request.params.id)));

  r.patch('/api/alert-rules/:id', {
    config: { access: MANAGERS },
    preValidation: async (request) => {
      const error = channelSchemaError(request.body, 'partial');
      if (error) throw error;
    },
    schema: {
      tags: ['alert rules'],
      summary: 'Change an alert rule',
      description: 'Send only what changes. To switch the channel to another type, send the whole new channel with its type. Audited as alert.rule.updated with the changed fields (secrets and header values only as changed).',
      params: IdParams,
      body: PatchRuleBody,
      response: { 200: RuleResponse, ...errorResponses, 404: ErrorResponse },
    },
  }, async (request) => presentRule(await service.update(request.params.id, request.body, contextOf(request))));

  r.delete('/api/alert-rules/:id', {
    config: { access: MANAGERS },
    schema: { tags: ['alert rules'], summary: 'Delete an alert rule', description: 'Audited as alert.rule.deleted.', params: IdParams, response: { 204: Type.Null(), ...errorResponses, 404: ErrorResponse } },
  }, async (request, reply) => {
    await service.delete(request.params.id, contextOf(request));
    return reply.status(204).send(null);
  });

  r.get('/api/alert-rules/:id/deliveries', {
    config: { access: { roles: ALL_ROLES, scopes: [] } },
    schema: {
      tags: ['alert rules'],
      summary: 'Delivery health and recent deliveries of a rule',
      params: IdParams,
      querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })) }, { additionalProperties: false }),
      response: {
        200: Type.Object({
          health: Type.Object({
            pending: Type.Integer(), delivered: Type.Integer(), dead: Type.Integer(),
            last_success_at: Type.Union([Type.String(), Type.Null()]), last_error: Type.Union([Type.String(), Type.Null()]), consecutive_failures: Type.Integer(),
          }),
          deliveries: Type.Array(Type.Object({
            delivery_id: Type.String(), entry_seq: Type.Integer(), status: Type.String(), attempts: Type.Integer(), created_at: Type.String(),
            next_attempt_at: Type.Union([Type.String(), Type.Null()]), delivered_at: Type.Union([Type.String(), Type.Null()]),
            last_status: Type.Union([Type.Integer(), Type.Null()], { description: 'HTTP status of the last webhook attempt; null for syslog' }), last_error: Type.Union([Type.String(), Type.Null()]),
          })),
        }),
        ...errorResponses,
        404: ErrorResponse,
      },
    },
  }, async (request) => deps.deliveries.forRule(request.params.id, request.query.limit ?? 50));

  r.post('/api/alert-rules/:id/test', {
    config: { access: MANAGERS },
    schema: {
      tags: ['alert rules'],
      summary: 'Send a test event through the rule’s channel now',
      description: 'Sends a synthetic entry (not part of the chain) over a fresh connection and answers with the outcome (status: the HTTP status of a webhook, null for syslog); audited as alert.rule.tested.',
      params: IdParams,
      response: { 200: Type.Object({ delivered: Type.Boolean(), status: Type.Union([Type.Integer(), Type.Null()]), error: Type.Union([Type.String(), Type.Null()]) }), ...errorResponses, 404: ErrorResponse },
    },
  }, async (request) => deps.deliveries.sendTest(request.params.id, contextOf(request)));
}

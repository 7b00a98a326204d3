import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ALL_ROLES } from '../auth/access.js';
import type { Catalog } from '../catalog/catalog.js';
import { ErrorResponse, errorResponses } from '../http/common.schemas.js';
import { contextOf } from '../http/request-context.js';
import { AuditPageResponse, AuditQuery, CatalogResponse, IngestBody, IngestResponse, VerifyResponse } from './audit.schemas.js';
import type { AuditService } from './audit.service.js';

const READERS = { roles: ALL_ROLES, scopes: ['audit:read'] } as const;

export function auditRoutes(app: FastifyInstance, deps: { service: AuditService; catalog: Catalog }): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { service, catalog } = deps;

  r.post('/api/audit/events', {
    config: { access: { roles: [], scopes: ['audit:write'] }, quietLog: true },
    schema: {
      tags: ['audit'],
      summary: 'Record events (workers)',
      description: 'All or nothing: one bad event refuses the batch with a 400 naming its index and field, and nothing is stored. Answers after the entries are durable.',
      body: IngestBody,
      response: { 201: IngestResponse, ...errorResponses, 413: ErrorResponse },
    },
  }, async (request, reply) => {
    const entries = await service.ingest(request.body, contextOf(request));
    return reply.status(201).send({ entries });
  });

  r.get('/api/audit', {
    config: { access: READERS },
    schema: {
      tags: ['audit'],
      summary: 'List, filter and search entries',
      description: 'Newest first with cursor paging; or oldest first from a seq with after= (SIEM polling, no gaps or duplicates; a Link rel="next" header gives the next poll).',
      querystring: AuditQuery,
      response: { 200: AuditPageResponse, ...errorResponses },
    },
  }, async (request, reply) => {
    const page = await service.page(request.query);
    if (request.query.after !== undefined && page.next_cursor !== null) {
      const next = new URLSearchParams(request.url.split('?')[1] ?? '');
      next.set('after', page.next_cursor);
      void reply.header('Link', `</api/audit?${next.toString()}>; rel="next"`);
    }
    return page;
  });

  r.get('/api/audit/catalog', {
    config: { access: { roles: ALL_ROLES, scopes: ['audit:read', 'audit:write'] } },
    schema: { tags: ['audit'], summary: 'Every known action', response: { 200: CatalogResponse, ...errorResponses } },
  }, async () => catalog.toJSON());

  r.get('/api/audit/verify', {
    config: { access: { roles: ['admin'], scopes: [] } },
    schema: {
      tags: ['audit'],
      summary: 'Re-walk the stored chain',
      description: 'Recomputes every hash from the anchor to the head and names the first bad seq. The outcome is itself recorded (audit.chain.verified or audit.chain.broken).',
      response: { 200: VerifyResponse, ...errorResponses },
    },
  }, async (request) => service.verify(contextOf(request)));

  r.get('/api/audit/:id', {
    config: { access: READERS },
    schema: {
      tags: ['audit'],
      summary: 'One entry',
      params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }),
      response: { 200: Type.Ref('AuditEntry'), ...errorResponses, 404: ErrorResponse },
    },
  }, async (request) => service.get(request.params.id));
}

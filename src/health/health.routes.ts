import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Readiness } from './readiness.js';

const Check = Type.Object({ ok: Type.Boolean(), reason: Type.Optional(Type.String()) });

/** Liveness and readiness probes for load balancers and orchestrators. */
export function healthRoutes(app: FastifyInstance, deps: { readiness: Readiness }): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.get('/healthz', {
    config: { access: 'public', rateLimit: false },
    schema: { tags: ['operations'], summary: 'Liveness: the process answers', response: { 200: Type.Object({ status: Type.Literal('ok') }) } },
  }, async () => ({ status: 'ok' as const }));

  r.get('/readyz', {
    config: { access: 'public', rateLimit: false },
    schema: {
      tags: ['operations'],
      summary: 'Readiness: store writable, schema current, outbox moving',
      description: '503 with the failing checks and their reasons when this node should not receive traffic.',
      response: {
        200: Type.Object({ status: Type.Literal('ready'), checks: Type.Record(Type.String(), Check) }),
        503: Type.Object({ status: Type.Literal('not_ready'), checks: Type.Record(Type.String(), Check) }),
      },
    },
  }, async (_request, reply) => {
    const { ready, checks } = await deps.readiness.check();
    return ready ? { status: 'ready' as const, checks } : reply.status(503).send({ status: 'not_ready' as const, checks });
  });
}

import type { FastifyInstance } from 'fastify';
import { AppError } from '../lib/errors.js';
import { safeEqual } from '../lib/secrets.js';
import type { Core } from '../app.js';

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;

/**
 * Prometheus metrics at GET /metrics. With METRICS_TOKEN set, a scraper must send it as a
 * bearer token (from anywhere); without it only loopback clients may scrape.
 */
export function metricsRoutes(app: FastifyInstance, deps: { core: Core; metricsToken: string | undefined }): void {
  const { core, metricsToken } = deps;
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url;
    if (route && route !== '/metrics') core.metrics.httpDuration.observe({ method: request.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
    done();
  });

  app.get('/metrics', {
    config: { access: 'public', rateLimit: false },
    schema: {
      tags: ['operations'],
      summary: 'Prometheus metrics',
      description: 'Text exposition format. With METRICS_TOKEN configured, send it as `Authorization: Bearer <token>`; otherwise only loopback clients are answered (403 for others).',
    },
  }, async (request, reply) => {
    if (metricsToken) {
      const m = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
      if (!m || !safeEqual(m[1]!, metricsToken)) throw new AppError('unauthenticated', 'Send the metrics token as a bearer token.');
    } else if (!LOOPBACK.test(request.socket.remoteAddress ?? '')) {
      throw new AppError('forbidden', 'Metrics are served to loopback clients only; set METRICS_TOKEN to scrape from elsewhere.');
    }
    core.metrics.outboxDepth.set(await core.outbox.depth());
    return reply.header('content-type', core.metrics.registry.contentType).send(await core.metrics.registry.metrics());
  });
}

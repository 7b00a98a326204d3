import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AuditQuery } from '../audit/audit.schemas.js';
import { ErrorResponse, errorResponses } from '../http/common.schemas.js';
import { contextOf } from '../http/request-context.js';
import type { ExportService } from './export.service.js';

const { limit: _l, cursor: _c, after: _a, include_total: _t, ...filterProperties } = AuditQuery.properties;
const ExportQuery = Type.Object({ format: Type.Optional(Type.Union([Type.Literal('csv'), Type.Literal('pdf')], { default: 'csv' })), ...filterProperties }, { additionalProperties: false });

export function exportRoutes(app: FastifyInstance, deps: { service: ExportService }): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.get('/api/audit/export', {
    config: { access: { roles: ['admin', 'auditor'], scopes: [] } },
    schema: {
      tags: ['audit'],
      summary: 'Export evidence: hash-chained CSV or PDF evidence bundle',
      description:
        'Admins; auditors too when the setting auditors_may_export is on (otherwise 403). Same filters as GET /api/audit. ' +
        'Streams the file (flat memory); the CSV format is docs/export-format.md, verifiable offline with `trailmark verify FILE`. ' +
        'Audited as audit.export.started before the first byte (503 and no file when that cannot be recorded), then audit.exported before the file\'s last bytes are sent, or audit.export.failed when it is cut off.',
      querystring: ExportQuery,
      response: { 200: Type.Unknown({ description: 'text/csv or application/pdf, Content-Disposition: attachment' }), ...errorResponses, 403: ErrorResponse },
    },
  }, async (request, reply) => {
    const { format = 'csv', ...filters } = request.query;
    const download = await deps.service.start(format, filters, contextOf(request));
    return reply
      .header('content-type', download.contentType)
      .header('content-disposition', `attachment; filename="${download.fileName}"`)
      .header('cache-control', 'no-store')
      .send(download.body);
  });
}

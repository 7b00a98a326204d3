import type { FastifyRequest } from 'fastify';
import type { RequestContext } from '../audit/audit.service.js';
import { principalOf } from './auth-hook.js';

const MAX_UA = 512;

export function clientOf(request: FastifyRequest): { ip: string; userAgent: string | null; requestId: string } {
  const ua = request.headers['user-agent'];
  return { ip: request.ip, userAgent: typeof ua === 'string' ? ua.slice(0, MAX_UA) : null, requestId: String(request.id) };
}

export function contextOf(request: FastifyRequest): RequestContext {
  return { principal: principalOf(request), ...clientOf(request) };
}

import type { AccessRule, Principal } from '../auth/access.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route; every route must declare it. */
    access?: AccessRule;
  }
  interface FastifyRequest {
    principal?: Principal;
  }
}

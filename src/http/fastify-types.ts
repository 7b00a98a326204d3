import type { AccessRule, Principal } from '../auth/access.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route; every route must declare it. */
    access?: AccessRule;
    /** Successful requests are logged at debug rather than info (high-volume machine traffic). */
    quietLog?: boolean;
  }
  interface FastifyRequest {
    principal?: Principal;
  }
}

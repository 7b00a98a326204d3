import { openCore } from '../app.js';
import { systemClock } from '../lib/clock.js';
import { buildServer } from './build-server.js';

/** The OpenAPI document as the server serves it at /docs/json, from a throwaway database. */
export async function openapiDocument(): Promise<string> {
  const core = await openCore({ databaseUrl: 'sqlite::memory:', clock: systemClock, secretKey: 'openapi-document-only-'.repeat(2) });
  try {
    const app = await buildServer(core, { logLevel: 'silent' });
    await app.ready();
    const doc = app.swagger();
    await app.close();
    return `${JSON.stringify(doc, null, 2)}\n`;
  } finally {
    await core.close();
  }
}

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthService } from '../auth/auth.service.js';
import { installAuth } from './auth-hook.js';
import { installErrorHandler } from './error-handler.js';
import { registerWebUi } from './web-ui.js';
import './fastify-types.js';

async function appWith(root: string): Promise<FastifyInstance> {
  const app = Fastify();
  installErrorHandler(app);
  // The real access hook: it refuses any route without an access rule.
  installAuth(app, {} as AuthService);
  app.get('/api/ping', { config: { access: 'public' } }, async () => ({ ok: true }));
  app.get('/docs', { config: { access: 'public' } }, async () => 'docs');
  await registerWebUi(app, { root });
  await app.ready();
  return app;
}

describe('registerWebUi', () => {
  let parent: string;
  let root: string;
  let app: FastifyInstance;

  beforeAll(async () => {
    parent = mkdtempSync(join(tmpdir(), 'trailmark-web-'));
    root = join(parent, 'dist');
    mkdirSync(join(root, 'assets'), { recursive: true });
    writeFileSync(join(root, 'index.html'), '<!doctype html><div id="root"></div>');
    writeFileSync(join(root, 'assets', 'app-1a2b.js'), 'console.log(1)');
    writeFileSync(join(root, '.env'), 'SECRET=1');
    writeFileSync(join(parent, 'outside.txt'), 'outside');
    app = await appWith(root);
  });
  afterAll(async () => {
    await app.close();
    rmSync(parent, { recursive: true, force: true });
  });

  it('serves index.html at / and for client routes, never cached', async () => {
    for (const url of ['/', '/audit', '/audit?action=rotation.*&severity=error', '/settings/advanced']) {
      const res = await app.inject({ url });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type'], url).toMatch(/^text\/html/);
      expect(res.headers['cache-control'], url).toBe('no-cache');
      expect(res.body, url).toContain('<div id="root">');
    }
  });

  it('serves built assets with a long cache', async () => {
    const res = await app.inject({ url: '/assets/app-1a2b.js' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('console.log(1)');
    expect(res.headers['cache-control']).toContain('immutable');
  });

  it('leaves /api and /docs to their routes and the JSON 404', async () => {
    expect((await app.inject({ url: '/api/ping' })).json()).toEqual({ ok: true });
    expect((await app.inject({ url: '/docs' })).body).toBe('docs');
    for (const url of ['/api/nothing', '/api', '/apix', '/docs/nothing', '/docsy']) {
      const res = await app.inject({ url });
      expect(res.statusCode, url).toBe(404);
      expect(res.json(), url).toMatchObject({ error: { code: 'not_found' } });
    }
    expect((await app.inject({ method: 'POST', url: '/audit' })).statusCode).toBe(404);
  });

  it('serves only the files it found: no dotfiles, nothing outside the root', async () => {
    for (const url of ['/.env', '/%2e%2e/outside.txt', '/assets/../../outside.txt', '/assets/%2e%2e/%2e%2e/outside.txt']) {
      const res = await app.inject({ url });
      expect(res.body, url).not.toContain('SECRET');
      expect(res.body, url).not.toContain('outside');
    }
  });

  it('says how to build the app when it is not built', async () => {
    const empty = await appWith(join(root, 'missing'));
    const res = await empty.inject({ url: '/audit' });
    expect(res.statusCode).toBe(503);
    expect(res.body).toContain('npm run build');
    await empty.close();
  });
});

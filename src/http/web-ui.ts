import { existsSync, readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';

/** Where `vite build web` writes the app (the same from src/http and dist/http). */
export const DEFAULT_WEB_ROOT = fileURLToPath(new URL('../../web/dist/', import.meta.url));

/** Paths that belong to the API and its docs (`/api*`, `/docs*`): never answered with the app. */
const NOT_THE_APP = /^\/(api|docs)/;

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Trailmark</title></head>
<body><h1>Trailmark</h1><p>The web UI is not built. Run <code>npm run build</code> and restart; the API is at <a href="/docs">/docs</a>.</p></body></html>`;

/**
 * Serves the single-page app at `/`: built files by their exact path (hashed assets are
 * cached for a year), and `index.html` for every other GET outside `/api` and `/docs`, so
 * client routes such as `/audit?action=auth.*` survive a reload or a shared link. Only
 * files found under the root at start-up are served; nothing else on disk can be reached.
 */
export async function registerWebUi(app: FastifyInstance, options: { root?: string } = {}): Promise<void> {
  const root = options.root ?? DEFAULT_WEB_ROOT;
  const files = existsSync(join(root, 'index.html')) ? listFiles(root) : null;

  await app.register(async (scope) => {
    await scope.register(fastifyStatic, { root, serve: false });

    const sendApp = (path: string, reply: FastifyReply): FastifyReply => {
      if (!files) return reply.status(503).type('text/html; charset=utf-8').send(NOT_BUILT);
      if (path !== '/index.html' && files.has(path)) {
        const immutable = path.startsWith('/assets/');
        return reply.sendFile(path.slice(1), { immutable, maxAge: immutable ? '365d' : 0, cacheControl: true });
      }
      return reply.header('Cache-Control', 'no-cache').sendFile('index.html', { cacheControl: false });
    };

    scope.get('/', { config: { access: 'public' }, schema: { hide: true } }, (_request, reply) => sendApp('/', reply));
    scope.get('/*', { config: { access: 'public' }, schema: { hide: true } }, (request, reply) => {
      const path = decodePath(request.url.split('?')[0] ?? '/');
      if (path === null || NOT_THE_APP.test(path)) return reply.callNotFound();
      return sendApp(path, reply);
    });
  });
}

function decodePath(path: string): string | null {
  try {
    return decodeURIComponent(path);
  } catch {
    return null;
  }
}

function listFiles(root: string): Set<string> {
  const found = new Set<string>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.name.startsWith('.')) continue;
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) found.add(`/${relative(root, full).split(sep).join('/')}`);
    }
  };
  walk(root);
  return found;
}

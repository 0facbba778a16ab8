// Static assets for the hosted pages: the stylesheet, and the page scripts bundled from web/ by esbuild at start
// (no build step to forget; the bundles live in memory and are served with caching).
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { build } from 'esbuild';

const WEB_DIR = new URL('../../../web/', import.meta.url);

/** Entry points under web/ and the asset name each is served as. */
const BUNDLES: Record<string, string> = {
  'captcha.js': 'captcha.ts',
  'pow-worker.js': 'pow-worker.ts',
  'passkeys.js': 'passkeys.ts',
};

export async function bundle(entry: string): Promise<string> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL(entry, WEB_DIR))],
    bundle: true,
    format: 'iife',
    target: 'es2020',
    minify: true,
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0]?.text ?? '';
}

export async function assetRoutes(app: FastifyInstance): Promise<void> {
  const css = readFileSync(new URL('portcullis.css', WEB_DIR), 'utf8');
  app.get('/assets/portcullis.css', async (_request, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(css),
  );
  // Browsers ask for it on every page; an empty answer keeps their consoles free of 404s.
  app.get('/favicon.ico', async (_request, reply) => reply.header('cache-control', 'public, max-age=86400').code(204).send());
  for (const [name, entry] of Object.entries(BUNDLES)) {
    if (!existsSync(new URL(entry, WEB_DIR))) continue;
    const code = await bundle(entry);
    app.get(`/assets/${name}`, async (_request, reply) =>
      reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=3600').send(code),
    );
  }
}

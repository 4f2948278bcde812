import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { Hono } from 'hono';
import type { ApiEnv } from '../api-context.js';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

/** Resolves a URL path inside `root`, or undefined when it would escape it. */
export function resolveAsset(root: string, urlPath: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0')) return undefined;
  const rel = normalize(decoded === '/' || decoded === '' ? '/index.html' : decoded).replace(/^([/\\])+/, '');
  const full = join(root, rel);
  return full === root || full.startsWith(root.endsWith(sep) ? root : root + sep) ? full : undefined;
}

/** `GET /` and its assets: the dashboard's static files, with their content types. */
export function dashboardRoute(root: string): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  app.get('/*', async (c, next) => {
    const path = c.req.path;
    if (path.startsWith('/api/')) return next();
    const file = resolveAsset(root, path);
    if (file === undefined) return next();
    try {
      if (!(await stat(file)).isFile()) return next();
      const body = await readFile(file);
      const type = CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
      return c.body(body, 200, { 'Content-Type': type, 'Cache-Control': 'no-cache' });
    } catch {
      return next();
    }
  });
  return app;
}

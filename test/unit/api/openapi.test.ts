import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { createApiApp } from '../../../src/api/api-app.js';

// No command reaches Redis here: the document and the route table are static.
const redis = new Redis({ lazyConnect: true });
const app = createApiApp({ redis, prefix: 'unit', auth: { allowAnonymous: true }, metricsRegistry: new Registry(), stuck: { autoStart: false } });

afterAll(async () => {
  await app.close();
  redis.disconnect();
});

describe('GET /openapi.json', () => {
  it('is OpenAPI 3.1 and describes every route the app serves', async () => {
    const doc = (await (await app.request('/openapi.json')).json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toBe('3.1.0');
    const served = app.routes
      .filter((r) => r.method !== 'ALL')
      .map((r) => ({ path: r.path === '/*' ? '/' : r.path.replace(/:([A-Za-z]+)/g, '{$1}'), method: r.method.toLowerCase() }));
    expect(served.length).toBeGreaterThanOrEqual(15);
    for (const { path, method } of served) expect(doc.paths[path]?.[method], `${method} ${path}`).toBeDefined();
    for (const path of ['/api/jobs', '/api/jobs/{id}', '/api/workers', '/api/errors', '/api/stats', '/api/stuck', '/api/dlq', '/api/dlq/replay', '/api/stream', '/metrics', '/healthz', '/readyz']) {
      expect(doc.paths[path], path).toBeDefined();
    }
  });
});

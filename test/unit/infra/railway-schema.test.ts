import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// railway.json checked against the shape of Railway's config-as-code schema: fields and enum
// values as documented (test/fixtures/railway.schema.json, written from the docs), with a tiny
// checker for the JSON-schema subset that file uses.

const ROOT = join(import.meta.dirname, '..', '..', '..');
const readJson = (path: string): unknown => JSON.parse(readFileSync(join(ROOT, path), 'utf8'));

interface Schema {
  type?: string | string[];
  enum?: unknown[];
  properties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  items?: Schema;
  minimum?: number;
  $ref?: string;
  definitions?: Record<string, Schema>;
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function typeMatches(actual: string, wanted: string): boolean {
  return actual === wanted || (wanted === 'number' && actual === 'integer');
}

/** Every violation of `schema` by `value`, as `path: problem`. */
function check(value: unknown, schema: Schema, root: Schema, path = '$'): string[] {
  if (schema.$ref !== undefined) {
    const name = schema.$ref.replace('#/definitions/', '');
    const target = root.definitions?.[name];
    if (!target) return [`${path}: unknown $ref ${schema.$ref}`];
    return check(value, target, root, path);
  }
  const errors: string[] = [];
  const actual = typeOf(value);
  if (schema.type !== undefined) {
    const wanted = Array.isArray(schema.type) ? schema.type : [schema.type];
    if (!wanted.some((t) => typeMatches(actual, t))) return [`${path}: is ${actual}, expected ${wanted.join(' or ')}`];
  }
  if (schema.enum !== undefined && !schema.enum.includes(value)) errors.push(`${path}: ${JSON.stringify(value)} is not one of ${schema.enum.join(', ')}`);
  if (schema.minimum !== undefined && typeof value === 'number' && value < schema.minimum) errors.push(`${path}: ${value} is below ${schema.minimum}`);
  if (actual === 'array' && schema.items) (value as unknown[]).forEach((v, i) => errors.push(...check(v, schema.items!, root, `${path}[${i}]`)));
  if (actual === 'object') {
    for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
      const prop = schema.properties?.[key];
      if (prop) errors.push(...check(v, prop, root, `${path}.${key}`));
      else if (schema.additionalProperties === false) errors.push(`${path}.${key}: not a field Railway knows`);
      else if (typeof schema.additionalProperties === 'object') errors.push(...check(v, schema.additionalProperties, root, `${path}.${key}`));
    }
  }
  return errors;
}

const schema = readJson('test/fixtures/railway.schema.json') as Schema;
const railway = readJson('railway.json') as { $schema: string; build: Record<string, unknown>; deploy: Record<string, unknown> };

describe('the railway.schema.json checker', () => {
  it('rejects an unknown field, a wrong enum value and a wrong type', () => {
    const bad = {
      $schema: 'https://railway.com/railway.schema.json',
      build: { builder: 'DOCKER', dockerfilePath: 'Dockerfile' },
      deploy: { restartPolicyType: 'on_failure', drainingSeconds: '30', healthCheckPath: '/healthz' },
    };
    const errors = check(bad, schema, schema);
    expect(errors).toEqual(
      expect.arrayContaining([
        expect.stringContaining('$.build.builder: "DOCKER" is not one of'),
        expect.stringContaining('$.deploy.restartPolicyType: "on_failure" is not one of ON_FAILURE, ALWAYS, NEVER'),
        expect.stringContaining('$.deploy.drainingSeconds: is string, expected integer'),
        '$.deploy.healthCheckPath: not a field Railway knows',
      ]),
    );
    expect(errors).toHaveLength(4);
  });

  it('accepts the documented example settings', () => {
    const documented = {
      $schema: 'https://railway.com/railway.schema.json',
      build: { builder: 'RAILPACK', watchPatterns: ['src/**'], buildCommand: null, railpackVersion: '0.7.0' },
      deploy: { startCommand: 'node index.js', preDeployCommand: ['npm run db:migrate'], healthcheckTimeout: 300, restartPolicyType: 'ALWAYS', restartPolicyMaxRetries: 5, cronSchedule: '*/15 * * * *', multiRegionConfig: { 'us-west2': { numReplicas: 2 } } },
      environments: { staging: { deploy: { startCommand: 'npm run staging' } } },
    };
    expect(check(documented, schema, schema)).toEqual([]);
  });
});

describe('railway.json', () => {
  it('matches the shape of Railway’s schema', () => {
    expect(check(railway, schema, schema)).toEqual([]);
    expect(railway.$schema).toBe('https://railway.com/railway.schema.json');
  });

  it('builds the repository’s Dockerfile', () => {
    expect(railway.build.builder).toBe('DOCKERFILE');
    expect(existsSync(join(ROOT, String(railway.build.dockerfilePath)))).toBe(true);
  });

  it('starts the role launcher, which exists and picks the role from JOBSCOPE_ROLE', () => {
    expect(railway.deploy.startCommand).toBe('node scripts/start-role.mjs');
    const launcher = readFileSync(join(ROOT, 'scripts/start-role.mjs'), 'utf8');
    expect(launcher).toContain('JOBSCOPE_ROLE');
    expect(readFileSync(join(ROOT, 'Dockerfile'), 'utf8')).toContain('CMD ["node", "scripts/start-role.mjs"]');
  });

  it('health-checks /healthz and restarts on failure', () => {
    expect(railway.deploy.healthcheckPath).toBe('/healthz');
    expect(railway.deploy.healthcheckTimeout).toBeGreaterThan(0);
    expect(railway.deploy.restartPolicyType).toBe('ON_FAILURE');
  });

  it('leaves a draining window longer than the longest default drain (worker, 25 s)', () => {
    expect(railway.deploy.drainingSeconds).toBeGreaterThanOrEqual(28);
  });
});

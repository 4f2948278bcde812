import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// infra/docker-compose.yml cannot be started here (no Docker engine): these checks read it,
// parsed with PyYAML (anchors and merge keys resolved as Compose does).

const ROOT = join(import.meta.dirname, '..', '..', '..');
const HAS_PYYAML = spawnSync('python3', ['-c', 'import yaml'], { stdio: 'ignore' }).status === 0;

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }> | string[];
  healthcheck?: { test: string[] };
  secrets?: string[];
  volumes?: string[];
}
interface Compose {
  services: Record<string, Service>;
  secrets?: Record<string, { environment?: string }>;
}

function loadCompose(): Compose {
  const code = 'import json,sys,yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))';
  const run = spawnSync('python3', ['-c', code, join(ROOT, 'infra', 'docker-compose.yml')], { encoding: 'utf8' });
  expect(run.status, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as Compose;
}

const SECRET_NAME = /(KEY|TOKEN|SECRET|PASSWORD|DSN)$/;

describe.skipIf(!HAS_PYYAML)('infra/docker-compose.yml', () => {
  const compose = HAS_PYYAML ? loadCompose() : ({ services: {} } as Compose);

  it('runs the whole stack: Redis, Fluentd, OTel Collector, Jaeger, Prometheus, Grafana and the three roles', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['api', 'fluentd', 'grafana', 'jaeger', 'otel-collector', 'pipeline', 'prometheus', 'redis', 'worker']);
  });

  it('builds the three roles from the repository Dockerfile, one JOBSCOPE_ROLE each', () => {
    for (const role of ['worker', 'pipeline', 'api']) {
      const s = compose.services[role]!;
      expect(s.build, role).toEqual({ context: '..', dockerfile: 'Dockerfile' });
      expect(s.environment?.JOBSCOPE_ROLE, role).toBe(role);
      expect(s.environment?.REDIS_URL, role).toBe('redis://redis:6379');
      expect(s.depends_on, role).toMatchObject({ redis: { condition: 'service_healthy' } });
    }
  });

  it('wires the pipeline to Fluentd (with the shared key) and the collector, and Prometheus to the roles', () => {
    const env = compose.services.pipeline!.environment!;
    expect(env.JOBSCOPE_SINKS).toContain('fluentd');
    expect(env.FLUENTD_HOST).toBe('fluentd');
    expect(env.FLUENTD_SHARED_KEY).toBe(compose.services.fluentd!.environment!.FLUENTD_SHARED_KEY);
    expect(env.OTEL_EXPORTER_OTLP_ENDPOINT).toBe('http://otel-collector:4318');
    expect(env.METRICS_PORT).toBe('9464');
    const prometheus = readFileSync(join(ROOT, 'infra', 'prometheus', 'prometheus.yml'), 'utf8');
    expect(prometheus).toContain("names: ['pipeline']");
    expect(prometheus).toContain('port: 9464');
    expect(prometheus).toContain("targets: ['api:3000']");
    expect(compose.services.api!.environment!.PORT).toBe('3000');
  });

  it('keeps Redis durable and never evicting stream entries', () => {
    const cmd = compose.services.redis!.command!.join(' ');
    expect(cmd).toContain('--appendonly yes');
    expect(cmd).toContain('--appendfsync everysec');
    expect(cmd).toContain('--maxmemory-policy noeviction');
  });

  it('commits no secret value: every secret-looking variable is a required or empty ${…} reference', () => {
    const offenders: string[] = [];
    for (const [name, s] of Object.entries(compose.services)) {
      for (const [key, value] of Object.entries(s.environment ?? {})) {
        if (!SECRET_NAME.test(key)) continue;
        if (!/^\$\{[A-Z0-9_]+(:\?[^}]*|:-)\}$/.test(String(value))) offenders.push(`${name}.${key}=${String(value)}`);
      }
    }
    expect(offenders).toEqual([]);
    expect(compose.services.api!.environment!.JOBSCOPE_API_TOKEN).toMatch(/^\$\{JOBSCOPE_API_TOKEN:\?/);
    expect(compose.secrets?.jobscope_api_token).toEqual({ environment: 'JOBSCOPE_API_TOKEN' });
  });

  it('has a health check for Redis, Fluentd, Prometheus and Grafana', () => {
    for (const name of ['redis', 'fluentd', 'prometheus', 'grafana']) expect(compose.services[name]!.healthcheck?.test, name).toBeDefined();
  });
});

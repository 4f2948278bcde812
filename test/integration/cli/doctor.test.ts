import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as doctor from '../../../src/cli/commands/doctor.js';
import { deadLetterStreamKey, eventStreamKey } from '../../../src/events/index.js';
import { freePort } from '../../helpers/redis-process.js';
import { cleanupPrefix, testPrefix, testRedis, TEST_REDIS_URL } from '../../helpers/redis.js';
import { Capture } from './cli-fixture.js';

async function runDoctor(env: Record<string, string>, args: string[] = []): Promise<{ code: number; out: string }> {
  const out = new Capture();
  const err = new Capture();
  const code = await doctor.run(args, { stdout: out, stderr: err, env });
  return { code, out: out.text + err.text };
}

describe('jobscope doctor', () => {
  const redis = testRedis();
  const prefix = testPrefix('doctor');
  let otlp: Server;
  let otlpUrl: string;
  beforeAll(async () => {
    otlp = createServer((_req, res) => res.writeHead(405).end());
    await new Promise<void>((r) => otlp.listen(0, '127.0.0.1', r));
    otlpUrl = `http://127.0.0.1:${(otlp.address() as { port: number }).port}/v1/traces`;
  });
  afterAll(async () => {
    await cleanupPrefix(redis, prefix);
    redis.disconnect();
    await new Promise((r) => otlp.close(r));
  });

  it('passes Redis checks on the local Redis and reports groups, dead letters and sinks', async () => {
    const stream = eventStreamKey({ prefix });
    await redis.xgroup('CREATE', stream, 'status', '$', 'MKSTREAM');
    await redis.xadd(stream, '*', 'v', '1', 'e', '{}');
    await redis.xadd(deadLetterStreamKey({ prefix }), '*', 'reason', 'invalid', 'sink', 'status');
    const closedPort = await freePort();
    const r = await runDoctor({ REDIS_URL: TEST_REDIS_URL, JOBSCOPE_PREFIX: prefix, OTEL_EXPORTER_OTLP_ENDPOINT: otlpUrl, FLUENTD_HOST: '127.0.0.1', FLUENTD_PORT: String(closedPort) });
    expect(r.out).toMatch(/^PASS {2}redis +reachable at redis:\/\/127\.0\.0\.1:6379/m);
    expect(r.out).toMatch(/^PASS {2}redis version +\d+\.\d+\.\d+ \(≥ 6\.2/m);
    expect(r.out).toMatch(/^(PASS|WARN) {2}maxmemory-policy/m);
    expect(r.out).toMatch(/^(PASS|WARN) {2}persistence/m);
    expect(r.out).toMatch(new RegExp(`^PASS  stream \\{${prefix}\\}:events +1 entries, 1 sink group`, 'm'));
    expect(r.out).toMatch(/^WARN {2}group status +lag 1, pending 0, consumers 0: nobody reads this group; start the pipeline worker/m);
    expect(r.out).toMatch(/^WARN {2}dead letters +1 in .*jobscope dlq list/m);
    expect(r.out).toMatch(/^WARN {2}workers +no job worker has reported/m);
    expect(r.out).toMatch(/^PASS {2}otlp +http:\/\/127\.0\.0\.1:\d+\/v1\/traces answers \(HTTP 405\)/m);
    expect(r.out).toMatch(/^FAIL {2}fluentd +cannot connect to 127\.0\.0\.1:\d+ \(ECONNREFUSED\): start it/m);
    expect(r.out).toMatch(/^PASS {2}sentry +not configured/m);
    expect(r.code).toBe(1); // fluentd is down
  });

  it('fails with advice when Redis is not reachable, and --json says so', async () => {
    const port = await freePort();
    const r = await runDoctor({ REDIS_URL: `redis://127.0.0.1:${port}`, JOBSCOPE_PREFIX: prefix }, ['--timeout', '1000']);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(new RegExp(`^FAIL  redis +cannot reach redis://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\): start Redis or fix REDIS_URL`, 'm'));
    expect(r.out).toMatch(/\d+ passed, 0 warnings, 1 failed/);
    const json = await runDoctor({ REDIS_URL: `redis://127.0.0.1:${port}` }, ['--json', '--timeout', '1000']);
    const report = JSON.parse(json.out) as { ok: boolean; checks: { status: string; name: string }[] };
    expect(report.ok).toBe(false);
    expect(report.checks[0]).toMatchObject({ status: 'fail', name: 'redis' });
  });
});

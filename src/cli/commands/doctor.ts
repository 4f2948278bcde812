import { Redis } from 'ioredis';
import { loadCliConfig } from '../../config/cli-config.js';
import { loadRedisConfig } from '../../config/redis-config.js';
import { JobscopeError } from '../../errors.js';
import { createStatusReader } from '../../status/status-reader.js';
import { parseCommand, writeJson } from '../args.js';
import type { CliIo } from '../commands.js';
import { redactUrl } from '../redact-url.js';
import { checkDeadLetters, checkProducerGaps, checkRedisServer, checkStreams, checkWorkers, type CheckResult } from '../doctor-checks.js';
import { checkSinks } from '../doctor-sink-checks.js';

const USAGE = `Usage: jobscope doctor [--json]

Checks the installation: Redis (reachable, version ≥ 6.2, maxmemory-policy, persistence), the
event streams (length, lag and pending per sink group), dead letters, event loss (producer
sequence gaps), worker liveness and sink
reachability. Reads the same environment as the workers: REDIS_URL, JOBSCOPE_PREFIX,
JOBSCOPE_SHARDS, FLUENTD_HOST/FLUENTD_PORT, OTEL_EXPORTER_OTLP_ENDPOINT, SENTRY_DSN.
Exits with 1 when any check fails.
  --timeout <ms>  per-check timeout (default 3000)
  --json          print the results as JSON`;

/** `jobscope doctor`: pass/warn/fail lines, each with what to do; exit 1 on any fail. */
export async function run(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommand(args, { timeout: { type: 'string' } }, io, USAGE);
  if (!parsed) return 2;
  if (parsed.values.help) {
    io.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const timeoutMs = parsed.values.timeout ? Number(parsed.values.timeout) : 3000;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1) {
    io.stderr.write('jobscope: --timeout must be a whole number of ms ≥ 1\n');
    return 2;
  }
  let results: CheckResult[];
  try {
    results = await runChecks(io, timeoutMs);
  } catch (err) {
    if (!(err instanceof JobscopeError)) throw err;
    io.stderr.write(`jobscope: ${err.message}\n`);
    return 1;
  }
  if (parsed.values.json) writeJson(io, { ok: !results.some((r) => r.status === 'fail'), checks: results });
  else io.stdout.write(renderChecks(results));
  return results.some((r) => r.status === 'fail') ? 1 : 0;
}

async function runChecks(io: CliIo, timeoutMs: number): Promise<CheckResult[]> {
  const redisConfig = loadRedisConfig(io.env);
  const cli = loadCliConfig(io.env);
  const sinks = checkSinks({ ...cli, timeoutMs });
  const redis = new Redis(redisConfig.url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  // ioredis reports the cause (ECONNREFUSED, ENOTFOUND, …) as an event and rejects with a vaguer one.
  let cause: (Error & { code?: string }) | undefined;
  redis.on('error', (err: Error) => (cause ??= err));
  const results: CheckResult[] = [];
  try {
    try {
      await redis.connect();
      await redis.ping();
      results.push({ status: 'pass', name: 'redis', detail: `reachable at ${redactUrl(redisConfig.url)}` });
    } catch (err) {
      results.push({
        status: 'fail',
        name: 'redis',
        detail: `cannot reach ${redactUrl(redisConfig.url)} (${cause?.code ?? cause?.message ?? (err as Error).message}): start Redis or fix REDIS_URL. The other Redis checks were skipped.`,
      });
      return [...results, ...(await sinks)];
    }
    results.push(...(await checkRedisServer(redis)));
    results.push(...(await checkStreams(redis, redisConfig.prefix, redisConfig.shards)));
    results.push(await checkDeadLetters(redis, redisConfig.prefix));
    results.push(...(await checkProducerGaps(redis, redisConfig.prefix)));
    results.push(await checkWorkers(createStatusReader({ redis, prefix: redisConfig.prefix })));
  } finally {
    redis.disconnect();
  }
  return [...results, ...(await sinks)];
}

/** The report: one line per check and a summary. */
export function renderChecks(results: CheckResult[]): string {
  const mark = { pass: 'PASS', warn: 'WARN', fail: 'FAIL' } as const;
  const width = Math.max(...results.map((r) => r.name.length));
  const lines = results.map((r) => `${mark[r.status]}  ${r.name.padEnd(width)}  ${r.detail}`);
  const n = (s: CheckResult['status']) => results.filter((r) => r.status === s).length;
  lines.push('', `${n('pass')} passed, ${n('warn')} warnings, ${n('fail')} failed`);
  return `${lines.join('\n')}\n`;
}

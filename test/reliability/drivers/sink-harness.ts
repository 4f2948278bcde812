import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { registerBuiltinSinks } from '../../../src/pipeline/builtin-sinks.js';
import { createPipeline, type Pipeline, type PipelineOptions } from '../../../src/pipeline/index.js';
import { createSinksFromConfig } from '../../../src/pipeline/sink-registry.js';
import { startFluentPeer, type FluentPeer } from '../../helpers/fluent-peer.js';
import { startOtlpReceiver, type OtlpReceiver } from '../../helpers/otlp-receiver.js';
import { startSentryEndpoint, type SentryEndpoint } from '../../helpers/sentry-endpoint.js';
import { deadLetteredIds, fluentDeliveries, otlpDeliveries, readDeadLetters, sentryDeliveries, statusDeliveries, type DeadLetterRecord } from '../observers.js';
import { startTcpGate, type TcpGate } from '../../helpers/tcp-gate.js';
import { judgeSink, type ProducedEvent, type SinkVerdict } from '../oracle.js';
import { SINK_SCOPE } from '../workload.js';

/**
 * An in-process pipeline running the real built-in sinks (status, fluentd, otel, sentry; the
 * external ones behind the PII scrubber, as `jobscope pipeline` builds them from the
 * environment) against real local peers: a Fluentd forward server behind a faultable proxy,
 * an OTLP/HTTP receiver, a Sentry envelope endpoint. The scenarios fault the peers and ask the
 * oracle for a verdict per sink.
 */

/** The peers and the pipeline. */
export interface SinkHarness {
  fluent: FluentPeer;
  otlp: OtlpReceiver;
  sentry: SentryEndpoint;
  /** In front of the OTLP receiver: `down()` makes the traces backend unreachable. */
  otlpGate: TcpGate;
  /** In front of the Sentry endpoint. */
  sentryGate: TcpGate;
  pipeline: Pipeline;
  registry: Registry;
  /** The oracle's verdict for each sink over `produced`. */
  verdicts(produced: readonly ProducedEvent[]): Promise<SinkVerdict[]>;
  deadLetters(): Promise<DeadLetterRecord[]>;
  close(): Promise<void>;
}

/** Options of {@link startSinkHarness}. */
export interface SinkHarnessOptions {
  redis: Redis;
  prefix: string;
  /** Extra environment (SCRUB_*, timeouts). */
  env?: Record<string, string>;
  /** Pipeline options to override (trim, retry …). */
  pipeline?: Partial<PipelineOptions>;
}

const SINKS = ['status', 'fluentd', 'otel', 'sentry'];

/** Starts the peers and the pipeline. */
export async function startSinkHarness(o: SinkHarnessOptions): Promise<SinkHarness> {
  const [fluent, otlp, sentry] = await Promise.all([startFluentPeer(), startOtlpReceiver(), startSentryEndpoint()]);
  const otlpGate = await startTcpGate(Number(new URL(otlp.tracesUrl).port));
  const sentryGate = await startTcpGate(Number(new URL(sentry.dsn).port));
  const env = {
    FLUENTD_HOST: '127.0.0.1', FLUENTD_PORT: String(fluent.port), FLUENTD_ACK_TIMEOUT_MS: '500',
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `http://127.0.0.1:${otlpGate.port}/v1/traces`, OTEL_EXPORTER_OTLP_TIMEOUT: '1000',
    SENTRY_DSN: `http://publickey@127.0.0.1:${sentryGate.port}/42`, SENTRY_TIMEOUT_MS: '1000', ...o.env,
  };
  const registry = new Registry();
  const logger = pino({ level: process.env.TEST_LOG ? 'debug' : 'silent' });
  registerBuiltinSinks();
  const sinks = await createSinksFromConfig(SINKS, { env, redis: o.redis, prefix: o.prefix, metricsRegistry: registry, logger });
  const pipeline = createPipeline({
    redis: o.redis, prefix: o.prefix, sinks, metricsRegistry: registry, logger, consumerName: 'harness',
    batchSize: 50, blockMs: 100, claimIdleMs: 5000, retry: { baseMs: 50, maxMs: 1000 }, breaker: { failureThreshold: 5, openMs: 500 },
    statsIntervalMs: 250, shutdownTimeoutMs: 3000, ...o.pipeline,
  });
  await pipeline.start();
  const deadLetters = () => readDeadLetters(o.redis, o.prefix);
  return {
    fluent, otlp, sentry, otlpGate, sentryGate, pipeline, registry, deadLetters,
    async verdicts(produced) {
      const dl = await deadLetters();
      const jobIds = produced.map((p) => p.jobId).filter((j): j is string => j !== undefined);
      return [
        judgeSink('status', produced, await statusDeliveries(o.redis, o.prefix, jobIds), deadLetteredIds(dl, 'status')),
        judgeSink('fluentd', produced, fluentDeliveries(fluent), deadLetteredIds(dl, 'fluentd')),
        judgeSink('otel', produced.filter(SINK_SCOPE.otel), otlpDeliveries(otlp), deadLetteredIds(dl, 'otel')),
        judgeSink('sentry', produced.filter(SINK_SCOPE.sentry), sentryDeliveries(sentry), deadLetteredIds(dl, 'sentry')),
      ];
    },
    async close() {
      await pipeline.close();
      await Promise.all([fluent.close(), otlp.close(), sentry.close(), otlpGate.close(), sentryGate.close()]);
    },
  };
}

/** True once every sink's group has nothing pending and no lag. */
export async function allGroupsDone(h: SinkHarness): Promise<boolean> {
  const stats = await h.pipeline.refreshStats();
  return stats.groups.length >= SINKS.length && stats.groups.every((g) => g.pending === 0 && g.lag === 0);
}

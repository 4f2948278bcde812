import { ConfigError } from '../errors.js';
import { loadFluentdConfig } from '../config/fluentd-config.js';
import { loadMetricsConfig } from '../config/metrics-config.js';
import { loadOtelConfig } from '../config/otel-config.js';
import { loadScrubConfig } from '../config/scrub-config.js';
import { loadSentryConfig } from '../config/sentry-config.js';
import { loadStatusConfig } from '../config/status-config.js';
import type { Sink } from '../sinks/sink.js';
import { registerSinkFactory, type SinkFactoryDeps } from './sink-registry.js';

/**
 * Registers every sink that ships with Jobscope. The three that send events out of the
 * installation (fluentd, otel, sentry) are wrapped in the PII scrubber, so configured fields
 * and patterns never leave; status and metrics stay inside and see events as they are.
 * Idempotent.
 *
 * Each factory loads its sink module on first use (`await import(...)`), so a pipeline that
 * runs only status + metrics never loads the Sentry SDK, OpenTelemetry or the Fluentd client:
 * tens of MB of resident memory saved per process.
 */
export function registerBuiltinSinks(): void {
  registerSinkFactory('null', async () => (await import('../sinks/null/index.js')).createNullSink());
  registerSinkFactory('status', async ({ env, redis, prefix, logger }) => {
    const c = loadStatusConfig(env);
    const { createStatusSink } = await import('../sinks/status/index.js');
    return createStatusSink({
      redis,
      prefix,
      retentionMs: c.retentionMs,
      timelineMax: c.timelineMax,
      feedMax: c.feedMax,
      pruneIntervalMs: c.pruneIntervalMs,
      onError: (err) => logger.error({ err }, 'status store prune failed; it runs again next interval'),
    });
  });
  registerSinkFactory('sequence', async ({ redis, prefix, metricsRegistry, logger }) => {
    const { createSequenceSink } = await import('../sinks/sequence/index.js');
    return createSequenceSink({ redis, prefix, registry: metricsRegistry, logger });
  });
  registerSinkFactory('metrics', async ({ env, metricsRegistry }) => {
    const c = loadMetricsConfig(env);
    const { createMetricsSink } = await import('../sinks/metrics/index.js');
    return createMetricsSink({ registry: metricsRegistry, ...c });
  });
  registerSinkFactory('fluentd', async (deps) => {
    const c = loadFluentdConfig(deps.env);
    if (!c) throw new ConfigError('FLUENTD_HOST', 'must be set when JOBSCOPE_SINKS includes fluentd', 'missing');
    const { createFluentdSink } = await import('../sinks/fluentd/index.js');
    return scrubbed(deps, createFluentdSink(c));
  });
  registerSinkFactory('otel', async (deps) => {
    const c = loadOtelConfig(deps.env);
    if (!c.enabled || !c.tracesUrl) {
      throw new ConfigError('OTEL_EXPORTER_OTLP_ENDPOINT', 'must be set when JOBSCOPE_SINKS includes otel', 'missing');
    }
    const { createOtelSink } = await import('../sinks/otel/index.js');
    return scrubbed(
      deps,
      createOtelSink({
        redis: deps.redis,
        prefix: deps.prefix,
        tracesUrl: c.tracesUrl,
        headers: c.headers,
        timeoutMs: c.timeoutMs,
        serviceName: c.serviceName,
        environment: c.environment,
        sampleRatio: c.sampleRatio,
      }),
    );
  });
  registerSinkFactory('sentry', async (deps) => {
    const c = loadSentryConfig(deps.env);
    if (!c.enabled || !c.dsn) throw new ConfigError('SENTRY_DSN', 'must be set when JOBSCOPE_SINKS includes sentry', 'missing');
    const { createSentrySink } = await import('../sinks/sentry/index.js');
    return scrubbed(
      deps,
      createSentrySink({
        dsn: c.dsn,
        redis: deps.redis,
        prefix: deps.prefix,
        environment: c.environment,
        release: c.release,
        onlyFinal: c.onlyFinal,
        fingerprint: c.fingerprint,
        timeoutMs: c.timeoutMs,
      }),
    );
  });
}

/** Wraps a sink that sends events out of the installation in the PII scrubber. */
async function scrubbed(deps: SinkFactoryDeps, sink: Sink): Promise<Sink> {
  const { createScrubber, withScrubbing } = await import('../sinks/scrub/index.js');
  return withScrubbing(sink, createScrubber(loadScrubConfig(deps.env)));
}

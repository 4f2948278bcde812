import { ConfigError } from '../errors.js';
import { loadFluentdConfig } from '../config/fluentd-config.js';
import { loadMetricsConfig } from '../config/metrics-config.js';
import { loadOtelConfig } from '../config/otel-config.js';
import { loadScrubConfig } from '../config/scrub-config.js';
import { loadSentryConfig } from '../config/sentry-config.js';
import { loadStatusConfig } from '../config/status-config.js';
import { createFluentdSink } from '../sinks/fluentd/index.js';
import { createMetricsSink } from '../sinks/metrics/index.js';
import { createNullSink } from '../sinks/null/index.js';
import { createOtelSink } from '../sinks/otel/index.js';
import { createScrubber, withScrubbing } from '../sinks/scrub/index.js';
import { createSentrySink } from '../sinks/sentry/index.js';
import { createSequenceSink } from '../sinks/sequence/index.js';
import { createStatusSink } from '../sinks/status/index.js';
import { registerSinkFactory, type SinkFactoryDeps } from './sink-registry.js';

/**
 * Registers every sink that ships with Jobscope. The three that send events out of the
 * installation (fluentd, otel, sentry) are wrapped in the PII scrubber, so configured fields
 * and patterns never leave; status and metrics stay inside and see events as they are.
 * Idempotent.
 */
export function registerBuiltinSinks(): void {
  registerSinkFactory('null', () => createNullSink());
  registerSinkFactory('status', ({ env, redis, prefix, logger }) => {
    const c = loadStatusConfig(env);
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
  registerSinkFactory('sequence', ({ redis, prefix, metricsRegistry, logger }) => createSequenceSink({ redis, prefix, registry: metricsRegistry, logger }));
  registerSinkFactory('metrics', ({ env, metricsRegistry }) =>
    createMetricsSink({ registry: metricsRegistry, ...loadMetricsConfig(env) }),
  );
  registerSinkFactory('fluentd', (deps) => {
    const c = loadFluentdConfig(deps.env);
    if (!c) throw new ConfigError('FLUENTD_HOST', 'must be set when JOBSCOPE_SINKS includes fluentd');
    return scrubbed(deps, createFluentdSink(c));
  });
  registerSinkFactory('otel', (deps) => {
    const c = loadOtelConfig(deps.env);
    if (!c.enabled || !c.tracesUrl) {
      throw new ConfigError('OTEL_EXPORTER_OTLP_ENDPOINT', 'must be set when JOBSCOPE_SINKS includes otel');
    }
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
  registerSinkFactory('sentry', (deps) => {
    const c = loadSentryConfig(deps.env);
    if (!c.enabled || !c.dsn) throw new ConfigError('SENTRY_DSN', 'must be set when JOBSCOPE_SINKS includes sentry');
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

function scrubbed(deps: SinkFactoryDeps, sink: Parameters<typeof withScrubbing>[0]) {
  return withScrubbing(sink, createScrubber(loadScrubConfig(deps.env)));
}

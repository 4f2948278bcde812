/**
 * Jobscope's public API: `import { ConnectorLogger } from 'jobscope'`.
 *
 * Producer side: the event contract and ConnectorLogger. Consumer side: the pipeline, the
 * sinks, the job-status store and the API, for those who assemble their own processes.
 */
export * from './events/index.js';
export * from './errors.js';

// Producer: the logger and its configuration.
export type * from './logger/types.js';
export { ConnectorLogger, type ConnectorLoggerOptions } from './logger/connector-logger.js';
export type { WorkerStartedFields, HeartbeatFields, WorkerStoppedFields, HealthStatus } from './logger/worker-events.js';
export { loadLoggerConfig, type LoggerConfig } from './config/logger-config.js';
export { loadRedisConfig, type RedisConfig } from './config/redis-config.js';

// Job workers, connectors and pricing.
export { createJobWorker, type JobWorker, type JobWorkerOptions } from './jobs/job-worker.js';
export { createJobProducer, type JobProducer } from './jobs/producer.js';
export { createPricing, type Pricing } from './jobs/pricing.js';
export { loadPriceTable, type PriceTable } from './jobs/price-table.js';
export type { Connector, ConnectorContext } from '../connectors/connector.js';

// Pipeline and sinks.
export type { Sink, SinkWriteResult, SinkHealth, SinkRejection } from './sinks/sink.js';
export * from './bus/index.js';
export * from './pipeline/index.js';
export { registerBuiltinSinks } from './pipeline/builtin-sinks.js';
export * from './sinks/null/index.js';
export { createStatusSink, DEFAULT_STATUS_RETENTION_MS } from './sinks/status/index.js';
export type { StatusSink, StatusSinkOptions, StatusSinkStats, PruneResult } from './sinks/status/index.js';
export { createMetricsSink } from './sinks/metrics/index.js';
export { createFluentdSink } from './sinks/fluentd/index.js';
export * from './sinks/otel/index.js';
export * from './sinks/sentry/index.js';
export * from './sinks/scrub/index.js';
export { createSequenceSink, listProducerGaps } from './sinks/sequence/index.js';
export type { SequenceSinkOptions, ProducerGaps } from './sinks/sequence/index.js';

// Read side: the job-status store, the API, stuck detection.
export * from './status/index.js';
export { createApiApp, type ApiApp } from './api/api-app.js';
export { startApiServer, type ApiServer, type ApiServerOptions } from './api/api-server.js';
export type { ApiOptions } from './api/api-options.js';
export { createStuckDetector, type StuckDetector, type StuckSnapshot } from './stuck/stuck-detector.js';

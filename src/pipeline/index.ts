export * from './pipeline.js';
export * from './pipeline-metrics.js';
export * from './sink-registry.js';
export * from './builtin-sinks.js';
export * from './circuit-breaker.js';
export * from './backoff.js';
export * from './consumer-name.js';
export type { SinkLoopStatus } from './sink-loop.js';
export * from './metrics-server.js';

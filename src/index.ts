/**
 * Jobscope's public API. `import { ConnectorLogger } from 'jobscope'`.
 */
export * from './events/index.js';
export * from './errors.js';
export type * from './logger/types.js';
export type { Sink, SinkWriteResult, SinkHealth, SinkRejection } from './sinks/sink.js';

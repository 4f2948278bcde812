export { createStatusSink, DEFAULT_STATUS_RETENTION_MS } from './status-sink.js';
export type { StatusSink, StatusSinkOptions, StatusSinkStats } from './status-sink.js';
export type { PruneResult } from './status-pruner.js';

export { createMetricsSink, type MetricsSinkOptions } from './metrics-sink.js';
export { registerJobMetrics, type JobMetrics } from './job-metrics.js';
export { createLabelLimiter, OVERFLOW_LABEL, type LabelLimiterOptions } from './label-limiter.js';

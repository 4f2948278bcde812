export { createOtelSink, type OtelSink, type OtelSinkOptions, type OtelSinkStats } from './otel-sink.js';
export { sampledByRatio } from './sampling.js';
export { childSpanId } from './span-ids.js';

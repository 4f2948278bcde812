export { createFluentdSink, type FluentdSinkOptions } from './fluentd-sink.js';
export { toFluentdRecord, fluentdTag, type FluentdRecord } from './fluentd-record.js';

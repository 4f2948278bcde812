export { createSequenceSink, DEFAULT_SEQUENCE_GRACE_MS } from './sequence-sink.js';
export type { SequenceSink, SequenceSinkOptions, SequenceSinkStats } from './sequence-sink.js';
export { listProducerGaps } from './producer-gaps.js';
export type { ListProducerGapsOptions, ProducerGapRange, ProducerGaps } from './producer-gaps.js';
export type { DetectedGap } from './gap-reporter.js';
export type { GapCheckResult } from './gap-checker.js';
export { sequenceKeys } from './sequence-keys.js';
export type { SequenceKeys } from './sequence-keys.js';

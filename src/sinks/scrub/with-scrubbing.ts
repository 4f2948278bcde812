import type { Sink } from '../sink.js';
import type { Scrubber } from './scrubber.js';

/**
 * Wraps `sink` so every event is scrubbed before the backend sees it. The wrapper keeps the
 * sink's name (so its consumer group stays the same) and its batch size; event ids are never
 * changed by scrubbing, so confirmed ids and rejections pass through unchanged.
 *
 * @example pipeline.addSink(withScrubbing(createFluentdSink(options), scrubber))
 */
export function withScrubbing(sink: Sink, scrubber: Scrubber): Sink {
  return {
    name: sink.name,
    ...(sink.maxBatchSize !== undefined ? { maxBatchSize: sink.maxBatchSize } : {}),
    write: (events, signal) => sink.write(events.map((e) => scrubber.scrub(e)), signal),
    health: () => sink.health(),
    close: () => sink.close(),
  };
}

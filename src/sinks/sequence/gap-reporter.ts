import type { Logger } from 'pino';
import type { SequenceMetrics } from './sequence-metrics.js';
import type { SeqReply } from './sequence-script.js';

/**
 * Says what the sequence check found: one error line per newly detected gap, and the count of
 * missing events on `jobscope_producer_seq_gaps_total`. Each gap is reported once across all
 * pipeline processes: the Lua call that declares a range lost is the only one that returns it.
 */

/** A newly detected gap of one producer, as reported. */
export interface DetectedGap {
  producer: string;
  /** `machine/worker/service/connector`. */
  path: string;
  serviceType: string;
  /** First and last missing seq, inclusive. */
  from: number;
  to: number;
  /** Missing events in the range. */
  count: number;
}

/** Turns a script reply into reported gaps. */
export type GapReporter = (producer: string, reply: SeqReply) => DetectedGap[];

/** Creates the reporter; `logger` gets the error lines, `metrics` the counts. */
export function createGapReporter(logger: Logger, metrics: SequenceMetrics): GapReporter {
  return (producer, reply) => {
    if (reply.lost <= 0) return [];
    metrics.gaps.inc({ service_type: metrics.serviceLabel(reply.serviceType) }, reply.lost);
    const gaps = reply.ranges.map((r) => ({
      producer, path: reply.path, serviceType: reply.serviceType, from: r.from, to: r.to, count: r.to - r.from + 1,
    }));
    for (const g of gaps) {
      logger.error(
        { event_type: 'jobscope.sequence_gap', producer, source_path: g.path, service_type: g.serviceType, seq_from: g.from, seq_to: g.to, missing: g.count },
        `events lost: producer ${producer} (${g.path || 'unknown path'}) seq ${g.from}–${g.to}, ${g.count} events; ` +
          'they never reached the event stream (e.g. Redis restarted without persistence): turn on appendonly yes with appendfsync everysec or always',
      );
    }
    const listed = gaps.reduce((n, g) => n + g.count, 0);
    if (listed < reply.lost) {
      logger.error(
        { event_type: 'jobscope.sequence_gap', producer, source_path: reply.path, missing: reply.lost - listed },
        `events lost: producer ${producer} (${reply.path || 'unknown path'}) ${reply.lost - listed} more events in further gaps`,
      );
    }
    return gaps;
  };
}

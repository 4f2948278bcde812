import { createRandom } from '../../connectors/seeded-random.js';
import { DEMO_QUEUES, nextDemoJob } from './demo-mix.js';
import { createJobProducer, type JobProducer } from './producer.js';
import type { RedisConnection } from './redis-connection.js';
import { withDeadline } from './with-deadline.js';

/**
 * The demo producer: enqueues a continuous, realistic mix of jobs (see demo-mix.ts) at a steady
 * rate, until stopped. Enqueue failures are counted and reported, and the loop goes on.
 */

/** Options of {@link createDemoProducer}. */
export interface DemoProducerOptions {
  connection: RedisConnection;
  /** Jobscope key prefix (cancel requests). Default `jobscope`. */
  prefix?: string;
  /** BullMQ key prefix. Default BullMQ's. */
  bullPrefix?: string;
  /** Jobs per second. Default 2. */
  ratePerSec?: number;
  /** Seed of the mix. Default random. */
  seed?: number;
  /** Called for every enqueue failure (the loop continues). */
  onError?: (err: unknown) => void;
}

/** Counters of a demo producer. */
export interface DemoProducerStats {
  enqueued: number;
  errors: number;
  byQueue: Record<string, number>;
  /** Adds still waiting for Redis when the stop gave up on them (see {@link STOP_WAIT_MS}). */
  abandoned: number;
  /** Jobs not enqueued because {@link MAX_INFLIGHT} adds were waiting for Redis. */
  skipped: number;
}

/** Most adds waiting for Redis at once; jobs due beyond it are skipped (and counted), not queued up. */
export const MAX_INFLIGHT = 100;

/** How often the producer enqueues what is due, in ms (fewer ticks than jobs at high rates). */
const TICK_MS = 10;

/** How long a stop waits for in-flight adds, and then for the queues to close, in ms (Redis may be away). */
export const STOP_WAIT_MS = 3000;

/** A running demo producer. */
export interface DemoProducer {
  stats(): DemoProducerStats;
  /** Stops enqueuing, waits for in-flight adds, closes the queues, each within STOP_WAIT_MS. Idempotent. */
  stop(): Promise<void>;
}

/** Starts enqueuing at once. */
export function createDemoProducer(options: DemoProducerOptions): DemoProducer {
  const random = createRandom(options.seed ?? Math.floor(Math.random() * 2 ** 32));
  const producers = new Map<string, JobProducer>();
  for (const queue of Object.values(DEMO_QUEUES)) {
    producers.set(queue, createJobProducer({ connection: options.connection, queue, ...(options.prefix ? { prefix: options.prefix } : {}), ...(options.bullPrefix ? { bullPrefix: options.bullPrefix } : {}) }));
  }
  const stats: DemoProducerStats = { enqueued: 0, errors: 0, byQueue: {}, abandoned: 0, skipped: 0 };
  const inflight = new Set<Promise<void>>();
  const rate = options.ratePerSec ?? 2;
  // Each tick enqueues the jobs due by then at the rate (one tick per job would cap the rate at
  // what timers allow: 1000/s, 500/s, 333/s, … instead of the rate asked for).
  const startedAt = performance.now();
  let scheduled = 0;
  const timer = setInterval(() => {
    const due = Math.floor((rate * (performance.now() - startedAt)) / 1000);
    for (; scheduled < due; scheduled++) {
      if (inflight.size >= MAX_INFLIGHT) {
        // Redis is slow: what is due now is skipped, not piled up for later.
        stats.skipped += due - scheduled;
        scheduled = due;
        break;
      }
      add();
    }
  }, Math.min(1000, Math.max(TICK_MS, 1000 / rate)));
  timer.unref();
  function add(): void {
    const job = nextDemoJob(random);
    const p = producers
      .get(job.queue)!
      .enqueue(job.name, job.data, job.opts)
      .then(() => {
        stats.enqueued++;
        stats.byQueue[job.queue] = (stats.byQueue[job.queue] ?? 0) + 1;
      })
      .catch((err: unknown) => {
        stats.errors++;
        options.onError?.(err);
      })
      .finally(() => inflight.delete(p));
    inflight.add(p);
  }
  let stopping: Promise<void> | undefined;
  return {
    stats: () => ({ ...stats, byQueue: { ...stats.byQueue } }),
    stop() {
      stopping ??= (async () => {
        clearInterval(timer);
        // With Redis away an add waits for it forever: the stop does not.
        if (!(await withDeadline(Promise.all(inflight), STOP_WAIT_MS))) stats.abandoned = inflight.size;
        const closed = await withDeadline(Promise.all([...producers.values()].map((p) => p.close())), STOP_WAIT_MS);
        // A close still waiting for Redis: its connections would retry for ever and keep the process up.
        if (!closed) await Promise.all([...producers.values()].map((p) => p.queue.disconnect().catch(() => undefined)));
      })();
      return stopping;
    },
  };
}

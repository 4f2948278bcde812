import type { PacksResult } from './batch-writer.js';
import { packEntries, type Pack } from './pack.js';
import type { PublisherState } from './publisher.js';

/**
 * The publisher's background loop: sends the oldest pending events (retry batch, then spool,
 * then buffer) one batch at a time, so at most one batch sits in the Redis client and order
 * holds. While Redis is away it waits for the client's `ready` event (polling as a fallback);
 * after a failed batch it backs off with jitter. Every iteration is guarded: the loop never
 * dies silently, it warns and carries on.
 */

/** Options of {@link createPublishLoop}. */
export interface PublishLoopOptions {
  flushBatch: number;
  commandTimeoutMs: number;
  retryDelayMs: { min: number; max: number };
  write: (redis: PublisherState['redis'], packs: readonly Pack[], timeoutMs: number) => Promise<PacksResult>;
}

/** Control of the loop. */
export interface PublishLoop {
  /** New events are waiting (a full batch, or the flush interval passed). */
  kick(): void;
  /** Resolves true when nothing is pending, false after `timeoutMs`. */
  flush(timeoutMs: number): Promise<boolean>;
  /** Stops the loop; waits up to `timeoutMs` for the batch in flight. */
  stop(timeoutMs: number): Promise<void>;
  /** Redis is ready and the last batch succeeded. */
  connected(): boolean;
}

const NOT_READY_POLL_MS = 500;
/**
 * A backlog (spool, or a buffer that grew while a batch was in flight) goes out in batches of
 * up to this many times `flushBatch`: fewer round trips when catching up.
 */
const BACKLOG_BATCH_FACTOR = 5;

/** Starts the loop over `state`. */
export function createPublishLoop(state: PublisherState, options: PublishLoopOptions): PublishLoop {
  let stopped = false;
  let abandoned = false;
  let failures = 0;
  let kicked = false;
  /** A kick came since the last batch was taken from the buffer: the buffer is due, full or not. */
  let due = false;
  let urgent = false;
  let wakeKick: (() => void) | undefined;
  let wakeUrgent: (() => void) | undefined;
  const drainWaiters = new Set<() => void>();
  const { redis, counters } = state;

  const { writer, buffer } = state;
  const inMemory = () => buffer.events + writer.count;
  const isEmpty = () => !state.head && inMemory() === 0 && (state.spool?.pending ?? 0) === 0;

  function kick(): void {
    kicked = true;
    due = true;
    wakeKick?.();
  }
  function urge(): void {
    urgent = true;
    wakeUrgent?.();
  }
  const onReady = () => urge();
  redis.on('ready', onReady);

  /** Waits for `ms` (forever if undefined), an urgent wake-up, or (unless ignored) a kick. */
  function wait(ms: number | undefined, ignoreKicks = false): Promise<void> {
    if (urgent || (!ignoreKicks && kicked)) {
      urgent = false;
      if (!ignoreKicks) kicked = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        clearTimeout(timer);
        wakeKick = wakeUrgent = undefined;
        urgent = false;
        if (!ignoreKicks) kicked = false;
        resolve();
      };
      if (ms !== undefined) {
        timer = setTimeout(done, ms);
        timer.unref();
      }
      wakeUrgent = done;
      if (!ignoreKicks) wakeKick = done;
    });
  }

  function backoffMs(): number {
    const { min, max } = options.retryDelayMs;
    const base = Math.min(max, min * 2 ** Math.min(failures - 1, 20));
    return base / 2 + Math.random() * (base / 2);
  }

  function failed(error: Error | undefined): boolean {
    if (!error) return true;
    counters.publishErrors++;
    state.warn('redis', `jobscope: publishing to Redis failed, will retry: ${error.message}`, {
      buffered: inMemory() + state.headEvents,
      spool_pending: state.spool?.pending ?? 0,
    });
    return false;
  }

  function setHead(batch: Pack[] | undefined): void {
    state.head = batch;
    state.headEvents = 0;
    state.headBytes = 0;
    for (const p of batch ?? []) {
      state.headEvents += p.count;
      state.headBytes += p.bytes;
    }
  }

  async function sendHead(batch: Pack[]): Promise<boolean> {
    const r = await options.write(redis, batch, options.commandTimeoutMs);
    if (abandoned || state.head !== batch) return true;
    counters.published += r.confirmed;
    if (r.packs >= batch.length) setHead(undefined);
    else if (r.packs > 0) setHead(batch.slice(r.packs));
    return failed(r.error);
  }

  async function sendSpool(): Promise<boolean> {
    const spool = state.spool!;
    const b = await spool.read(options.flushBatch * BACKLOG_BATCH_FACTOR);
    if (abandoned) return true;
    if (b.corrupt > 0) {
      counters.dropped += b.corrupt;
      state.warn('spool-corrupt', `jobscope: skipped ${b.corrupt} unreadable spool line(s)`, { path: spool.path });
    }
    if (b.entries.length === 0) {
      spool.commit(b.ends.at(-1) ?? Number.MAX_SAFE_INTEGER, spool.pending);
      return true;
    }
    const r = await options.write(redis, packEntries(b.entries, state.writer.maxEvents), options.commandTimeoutMs);
    if (abandoned) return true;
    if (r.confirmed > 0) {
      spool.commit(r.confirmed === b.entries.length ? b.ends.at(-1)! : b.ends[r.confirmed - 1]!, r.confirmed);
      counters.published += r.confirmed;
      counters.replayed += r.confirmed;
    }
    return failed(r.error);
  }

  function sendNext(): Promise<boolean> {
    if (state.head) return sendHead(state.head);
    if (state.spool && state.spool.pending > 0) return sendSpool();
    const last = writer.close();
    if (last) buffer.push(last);
    const batch = buffer.take(options.flushBatch * BACKLOG_BATCH_FACTOR);
    due = false;
    setHead(batch);
    return sendHead(batch);
  }

  async function openSpool(): Promise<void> {
    if (!state.spool) return;
    try {
      await state.spool.open();
    } catch (err) {
      state.warn('spool', `jobscope: cannot open the spool, continuing without it: ${(err as Error).message}`, {
        path: state.spool.path,
      });
      state.spool = undefined;
    }
  }

  /**
   * Whether to wait for more events before sending: only a partial batch that is not yet due
   * (no kick: the publisher kicks at a full batch and `flushIntervalMs` after an event came),
   * with nobody flushing. Sending every few events as soon as the last batch returns would
   * cost Redis and this process a script call per handful of events under moderate load.
   */
  function lingers(): boolean {
    return !due && !stopped && drainWaiters.size === 0 && !state.head && (state.spool?.pending ?? 0) === 0 && inMemory() < options.flushBatch;
  }

  async function step(): Promise<void> {
    if (isEmpty()) {
      for (const w of [...drainWaiters]) w();
      await wait(undefined);
    } else if (redis.status !== 'ready') {
      await wait(NOT_READY_POLL_MS);
    } else if (lingers()) {
      await wait(undefined);
    } else if (await sendNext()) {
      failures = 0;
    } else {
      failures++;
      await wait(backoffMs(), true);
    }
  }

  async function run(): Promise<void> {
    await openSpool();
    while (!stopped) {
      try {
        await step();
      } catch (err) {
        state.warn('loop', `jobscope: publisher loop error, continuing: ${(err as Error).message}`, {});
        await wait(1000, true);
      }
    }
  }
  const done = run();

  return {
    kick,
    connected: () => redis.status === 'ready' && failures === 0,
    flush(timeoutMs) {
      if (isEmpty() && !stopped) return Promise.resolve(true);
      if (stopped) return Promise.resolve(isEmpty());
      urge();
      return new Promise((resolve) => {
        const onDrained = () => {
          clearTimeout(timer);
          drainWaiters.delete(onDrained);
          resolve(true);
        };
        const timer = setTimeout(() => {
          drainWaiters.delete(onDrained);
          resolve(isEmpty());
        }, timeoutMs);
        drainWaiters.add(onDrained);
      });
    },
    async stop(timeoutMs) {
      stopped = true;
      redis.off('ready', onReady);
      urge();
      let timer: NodeJS.Timeout | undefined;
      const finished = await Promise.race([
        done.then(() => true),
        new Promise<boolean>((r) => (timer = setTimeout(() => r(false), timeoutMs))),
      ]);
      clearTimeout(timer);
      if (!finished) abandoned = true;
    },
  };
}

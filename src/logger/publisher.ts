import type { Redis } from 'ioredis';
import type { PublisherStats } from './types.js';
import { createPackBuffer, wholeJson, type PackBuffer, type PendingEntry } from './event-buffer.js';
import { writePacks } from './batch-writer.js';
import { PACK_MAX_EVENTS, packEntries, PackWriter, unpack, type Pack } from './pack.js';
import { createSpool, type Spool } from './spool.js';
import { createRateLimitedWarning, type RateLimitedWarning, type WarnSink } from './rate-limited-warning.js';
import { createPublishLoop, type PublishLoop } from './publish-loop.js';

/**
 * The publisher: accepts encoded events without ever blocking or throwing, and gets them into
 * Redis in order. One logical FIFO, oldest first:
 *
 *   retry batch (memory) → spool file (disk) → buffer of packs (memory) → open pack (memory)
 *
 * Events are packed as they arrive (pack.ts): the memory holds one Buffer per closed pack.
 * Past the memory bound the *oldest* buffered events spill to the spool, so the spool always
 * holds older events than the buffer; the loop drains the spool before the buffer and per-producer
 * order holds. Only past both bounds is an event dropped — counted and warned about.
 */

/** Options of {@link createPublisher}. */
export interface PublisherOptions {
  /** The Redis client. A client the publisher creates itself should have `enableOfflineQueue: false`. */
  redis: Redis;
  /** Disconnect `redis` on close (true when the publisher created it). Default false. */
  ownsClient?: boolean;
  /** Most events in memory. Default 10000. */
  maxBufferEvents?: number;
  /** Most bytes of event JSON in memory (characters; each event counted whole). Default 16 MiB. */
  maxBufferBytes?: number;
  /** Longest wait before a partial batch is sent, in ms. Default 20. */
  flushIntervalMs?: number;
  /** Events per XADD batch; a full batch is sent at once. Default 200. */
  flushBatch?: number;
  /** Pack runs of events into one stream entry each (pack.ts). Default true; false: one whole event per entry. */
  packEvents?: boolean;
  /** The spool; without it, events past the memory bound are dropped. */
  spool?: { dir: string; name: string; maxBytes: number };
  /** Deadline of one XADD batch, in ms. Default 5000. */
  commandTimeoutMs?: number;
  /** Backoff after a failed batch, in ms: doubles from `min` to `max`, with jitter. Default 50..2000. */
  retryDelayMs?: { min: number; max: number };
  /** Where warnings go (drops, Redis errors, spool errors). */
  onWarn: WarnSink;
}

/** Publisher counters, without `invalidCalls` (counted by the logger). */
export type PublisherCounters = Omit<PublisherStats, 'invalidCalls'>;

/** Accepts events and publishes them to Redis streams. */
export interface Publisher {
  /** Queues one encoded event (its `seq` of its `producer`, in order; the publisher owns it now). Never throws, never waits. */
  publish(entry: PendingEntry): void;
  /**
   * The way in for events the caller writes as pack lines itself (the job runtime's staged
   * lifecycle events, see LoggerCore.direct): makes room in the open pack for `n` events of
   * `stream`, with the `shared` members of `producer`, that count `bytes` against the memory
   * bound (at least their lines' characters), and returns the open pack's line index they start
   * at; -1 when they must go through {@link publish} instead (packing off, closing, or the
   * memory bound near: publish spills or drops, and says so).
   */
  reserveLines(stream: string, producer: string, shared: string, n: number, bytes: number): number;
  /** Adds the `n` events reserved, as `text` (see PackWriter.appendLines), seqs from `firstSeq`. */
  appendLines(stream: string, producer: string, shared: string, firstSeq: number, n: number, text: string, bytes: number): void;
  /** Packs closed so far (PackWriter.generation): a line index names a line of the open pack while this holds. */
  readonly packGeneration: number;
  stats(): PublisherCounters;
  /** Resolves true once everything accepted so far is in Redis, false after `timeoutMs`. Never rejects. */
  flush(timeoutMs: number): Promise<boolean>;
  /**
   * Flushes for up to `timeoutMs`, then moves what is left to the spool (to be replayed by
   * the next publisher with the same spool), and releases the connection. Idempotent.
   * Resolves true when everything reached Redis.
   */
  close(timeoutMs: number): Promise<boolean>;
}

/** Shared mutable state of the publisher and its loop. */
export interface PublisherState {
  readonly redis: Redis;
  /** The pack being filled (the newest events). */
  readonly writer: PackWriter;
  /** Closed packs waiting to be sent. */
  readonly buffer: PackBuffer;
  /** A batch taken from the buffer, in flight or waiting for a retry: older than anything else. */
  head: Pack[] | undefined;
  headEvents: number;
  headBytes: number;
  spool: Spool | undefined;
  counters: PublisherCounters;
  readonly warn: RateLimitedWarning;
}

/** Creates a {@link Publisher}; its loop starts at once (it first opens the spool). */
export function createPublisher(options: PublisherOptions): Publisher {
  const maxEvents = options.maxBufferEvents ?? 10_000;
  const maxBytes = options.maxBufferBytes ?? 16 * 1024 * 1024;
  const flushBatch = options.flushBatch ?? 200;
  const flushIntervalMs = options.flushIntervalMs ?? 20;
  const packEvents = options.packEvents ?? true;
  const state: PublisherState = {
    redis: options.redis,
    writer: new PackWriter(packEvents ? PACK_MAX_EVENTS : 1),
    buffer: createPackBuffer(),
    head: undefined,
    headEvents: 0,
    headBytes: 0,
    spool: options.spool && options.spool.maxBytes > 0 ? createSpool(options.spool) : undefined,
    counters: {
      accepted: 0,
      published: 0,
      buffered: 0,
      bufferedBytes: 0,
      spooled: 0,
      spoolPending: 0,
      replayed: 0,
      dropped: 0,
      publishErrors: 0,
      connected: false,
    },
    warn: createRateLimitedWarning({ sink: options.onWarn }),
  };
  const loop: PublishLoop = createPublishLoop(state, {
    flushBatch,
    commandTimeoutMs: options.commandTimeoutMs ?? 5000,
    retryDelayMs: options.retryDelayMs ?? { min: 50, max: 2000 },
    write: writePacks,
  });
  let flushTimer: NodeJS.Timeout | undefined;
  let closing: Promise<boolean> | undefined;

  const { writer, buffer } = state;
  const memEvents = () => buffer.events + writer.count + state.headEvents;
  const memBytes = () => buffer.bytes + writer.bytes + state.headBytes;
  /** Whether `n` more events counting `bytes` would pass the memory bound. */
  const over = (n: number, bytes: number) => memEvents() + n > maxEvents || memBytes() + bytes > maxBytes;

  function add(entry: PendingEntry): void {
    const closed = writer.add(entry);
    if (closed) buffer.push(closed);
  }

  /** Closes the open pack, so everything in memory is in the buffer (before moving it). */
  function closeOpen(): void {
    const last = writer.close();
    if (last) buffer.push(last);
  }

  function drop(count: number, reason: string): void {
    state.counters.dropped += count;
    state.warn('drop', `jobscope: dropped ${count} event(s): ${reason}`, { dropped_total: state.counters.dropped, reason });
  }

  /** Moves the oldest buffered events to the spool until a quarter of the bound is free. */
  function spill(incomingBytes: number): void {
    const spool = state.spool;
    if (!spool) return;
    const targetEvents = Math.floor(maxEvents * 0.75);
    const targetBytes = Math.floor(maxBytes * 0.75);
    closeOpen();
    const chunk: Pack[] = [];
    let events = 0;
    let bytes = 0;
    while (buffer.packs > 0 && (memEvents() - events + 1 > targetEvents || memBytes() - bytes + incomingBytes > targetBytes)) {
      const [p] = buffer.take(0);
      chunk.push(p!);
      events += p!.count;
      bytes += p!.bytes;
    }
    if (chunk.length === 0) return;
    const entries = chunk.flatMap(unpack);
    let written = 0;
    try {
      written = spool.append(entries);
    } catch (err) {
      state.warn('spool', `jobscope: spool write failed, keeping events in memory: ${(err as Error).message}`, { path: spool.path });
    }
    state.counters.spooled += written;
    // The spool is full: put the rest back in front, in order, and let the caller decide.
    if (written < entries.length) buffer.unshift(packEntries(entries.slice(written), writer.maxEvents));
  }

  /** Appends one event straight to the spool; false when there is no spool or it cannot take it. */
  function spoolOne(entry: PendingEntry): boolean {
    if (!state.spool) return false;
    try {
      if (state.spool.append([entry]) !== 1) return false;
    } catch (err) {
      state.warn('spool', `jobscope: spool write failed: ${(err as Error).message}`, { path: state.spool.path });
      return false;
    }
    state.counters.spooled++;
    return true;
  }

  function scheduleFlush(): void {
    if (buffer.events + writer.count >= flushBatch) loop.kick();
    else if (!flushTimer) {
      flushTimer = setTimeout(() => {
        flushTimer = undefined;
        loop.kick();
      }, flushIntervalMs);
      flushTimer.unref();
    }
  }

  function publish(entry: PendingEntry): void {
    if (closing) {
      drop(1, 'the logger is closed');
      return;
    }
    state.counters.accepted++;
    // Unpacked, every entry holds one whole event (what readers older than packing understand).
    if (!packEvents && entry.shared !== undefined) entry = asWhole(entry);
    const { bytes } = entry;
    // The usual case: within both bounds.
    if (!over(1, bytes)) {
      add(entry);
      scheduleFlush();
      return;
    }
    spill(bytes);
    // The head batch in flight can hold the whole memory bound with nothing else in memory: then
    // the new event itself goes to the spool (still in order: head → spool, nothing newer held).
    if (over(1, bytes) && buffer.events + writer.count === 0 && spoolOne(entry)) {
      scheduleFlush();
      return;
    }
    if (over(1, bytes)) {
      drop(1, state.spool ? 'memory buffer and spool are full' : 'memory buffer is full and no spool is configured');
      return;
    }
    add(entry);
    scheduleFlush();
  }

  function reserveLines(stream: string, producer: string, shared: string, n: number, bytes: number): number {
    if (closing || !packEvents || over(n, bytes)) return -1;
    const closed = writer.reserve(stream, producer, shared, n, bytes);
    if (closed) buffer.push(closed);
    return writer.count;
  }

  function appendLines(stream: string, producer: string, shared: string, firstSeq: number, n: number, text: string, bytes: number): void {
    state.counters.accepted += n;
    writer.appendLines(stream, producer, shared, firstSeq, n, text, bytes);
    scheduleFlush();
  }

  async function close(timeoutMs: number): Promise<boolean> {
    const started = Date.now();
    const drained = await loop.flush(timeoutMs);
    await loop.stop(Math.max(100, Math.min(1000, timeoutMs - (Date.now() - started))));
    if (flushTimer) clearTimeout(flushTimer);
    if (!drained) saveLeftovers();
    try {
      state.spool?.close();
    } catch {
      // Nothing left to do with a spool we cannot close.
    }
    if (options.ownsClient) state.redis.disconnect();
    return drained;
  }

  /** At close with Redis away: everything in memory goes to the spool, oldest first. */
  function saveLeftovers(): void {
    const head = (state.head ?? []).flatMap(unpack);
    state.head = undefined;
    state.headEvents = 0;
    state.headBytes = 0;
    closeOpen();
    const rest = buffer.take(Number.MAX_SAFE_INTEGER).flatMap(unpack);
    const spool = state.spool;
    let written = 0;
    try {
      if (spool) {
        written = spool.pending > 0 && head.length > 0 ? spool.prepend(head) : spool.append(head);
        if (written === head.length) written += spool.append(rest);
      }
    } catch (err) {
      state.warn('spool', `jobscope: spool write failed at close: ${(err as Error).message}`, {});
    }
    state.counters.spooled += written;
    const lost = head.length + rest.length - written;
    if (lost > 0) drop(lost, 'closed while Redis was away and the spool could not take them');
  }

  return {
    publish,
    reserveLines,
    appendLines,
    get packGeneration() {
      return writer.generation;
    },
    stats() {
      const c = state.counters;
      c.buffered = memEvents();
      c.bufferedBytes = memBytes();
      c.spoolPending = state.spool?.pending ?? 0;
      c.connected = loop.connected();
      return { ...c };
    },
    flush(timeoutMs) {
      return loop.flush(timeoutMs);
    },
    close(timeoutMs) {
      closing ??= close(timeoutMs);
      return closing;
    },
  };
}

function asWhole(e: PendingEntry): PendingEntry {
  const json = wholeJson(e);
  return { stream: e.stream, json, shared: undefined, attempt: undefined, bytes: json.length, producer: e.producer, seq: e.seq };
}

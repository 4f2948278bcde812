import type { Logger } from 'pino';
import { packedEventCount } from '../events/index.js';
import { createAckPipeline } from './ack-pipeline.js';
import { sinkHealthy } from './sink-healthy.js';
import type { Acker, Claimer, DeadLetter, DeadLetterItem, GroupReader, StreamEntry } from '../bus/index.js';
import type { Sink } from '../sinks/sink.js';
import { abortableSleep } from './abortable-sleep.js';
import { backoffDelayMs, type BackoffOptions } from './backoff.js';
import { decodeBatch, type EventDeadLetter, type HeldEntry } from './batch-decoder.js';
import type { CircuitBreaker, BreakerState } from './circuit-breaker.js';
import type { DecodeCache } from './decode-cache.js';
import { createEntryTally } from './entry-tally.js';
import type { PipelineMetrics } from './pipeline-metrics.js';
import { createReadSizer } from './read-sizer.js';
import { writeBatch, type WriteOutcome } from './write-batch.js';

/**
 * The loop of one sink: read → decode → write → acknowledge what the backend confirmed,
 * dead-letter what it rejected, keep the rest pending and retry it with backoff.
 *
 * A failed batch is told apart from a poison event with the sink's health check: when the
 * backend is down (unhealthy) or asked to wait (`retryAfterMs`), nothing counts against the
 * events — they wait, pending, however long the outage lasts. When the backend is healthy
 * the batch is split in halves until the event that fails is alone; each failure of that
 * lone event is a delivery, recorded in the PEL, and after `maxDeliveries` it is
 * dead-lettered while the rest of the batch flows.
 *
 * Round trips overlap while the sink is healthy: the next batch is read while the current one
 * is written (read-ahead, at most one batch), and the XACK of a confirmed batch travels while
 * the next one is written (at most one ack in flight, see `ack-pipeline.ts`). So about two
 * reads' worth of events (each sized to hold `batchSize`) are held in memory per sink, plus
 * one batch's ids being acknowledged. No read-ahead while the sink is failing or its breaker
 * is not closed, nor while more than one write batch of the last read is still queued.
 *
 * The loop handles events, the group acknowledges entries. A packed entry (up to 64 events)
 * becomes one held event per event; each is written, bisected, retried and dead-lettered on
 * its own, and the entry is acknowledged only once every one of its events is settled in this
 * loop (confirmed by the sink, or dead-lettered; see `entry-tally.ts`). Reads are sized from
 * the events per entry seen recently (`read-sizer.ts`) and what a read returns is cut into
 * write batches of at most the sink's batch size, so the events held stay near `batchSize`
 * whatever the entries carry. Counts (`inFlight`, acked, dead-lettered, retried) are events.
 */

/** Events written by a half-open breaker's probe. */
export const PROBE_BATCH_SIZE = 1;
/** Longest a health check may take before the backend counts as unhealthy, in ms. */
const HEALTH_TIMEOUT_MS = 2000;

/** Options of {@link createSinkLoop}. */
export interface SinkLoopOptions {
  sink: Sink;
  group: string;
  reader: GroupReader;
  claimer: Claimer;
  acker: Acker;
  deadLetter: DeadLetter;
  breaker: CircuitBreaker;
  metrics: PipelineMetrics;
  logger: Logger;
  /** Events per write (a sink's `maxBatchSize` may lower it); reads are sized to hold about this many. */
  batchSize: number;
  maxDeliveries: number;
  claimIdleMs: number;
  retry: BackoffOptions;
  /** Aborts on shutdown: stop reading and sleeping. */
  stopSignal: AbortSignal;
  /** Aborts at the shutdown deadline: passed to `sink.write`. */
  writeSignal: AbortSignal;
  /** Decoded events shared with the other sink loops of the process. Default none. */
  decodeCache?: DecodeCache;
}

/** What a sink loop reports in `pipeline.status()`. */
export interface SinkLoopStatus {
  sink: string;
  group: string;
  breaker: BreakerState;
  /** Events held in memory: read and not yet acknowledged (written, read ahead, or being acked). */
  inFlight: number;
  acked: number;
  deadLettered: number;
  retried: number;
  consecutiveFailures: number;
  lastError?: string;
  lastSuccessAt?: number;
}

/** A running sink loop. */
export interface SinkLoop {
  /** Resolves when the loop has stopped (after `stopSignal` aborted). Never rejects. */
  run(): Promise<void>;
  status(): SinkLoopStatus;
}

/** Creates a {@link SinkLoop}. */
export function createSinkLoop(o: SinkLoopOptions): SinkLoop {
  const name = o.sink.name;
  const limit = Math.max(1, Math.min(o.batchSize, o.sink.maxBatchSize ?? o.batchSize));
  const claimEveryMs = Math.min(o.claimIdleMs, Math.max(100, o.claimIdleMs / 2));
  const touchEveryMs = Math.max(50, o.claimIdleMs / 3);
  const queue: HeldEntry[][] = [];
  const settles = createEntryTally();
  const sizer = createReadSizer(limit);
  const st = { acked: 0, deadLettered: 0, retried: 0, streak: 0, lastError: undefined as string | undefined, lastSuccessAt: 0 };
  /** The sink's last write failed (not cleared by other errors, unlike `st.streak`, which counts loop errors too). */
  let sinkFailing = false;
  let lastClaimAt = 0;
  let lastTouchAt = Date.now();
  /** The batch being read ahead; never rejects (an error is returned and rethrown by `takeAhead`). */
  let ahead: Promise<{ held: HeldEntry[] } | { err: unknown }> | undefined;
  let aheadHeld: HeldEntry[] = [];
  /** Write batches the drain has yet to try (counted as held in `status()`). */
  let draining: HeldEntry[][] = [];
  const acks = createAckPipeline({
    acker: o.acker,
    onAcked: countAcked,
  });

  function countAcked(events: number): void {
    if (events === 0) return;
    st.acked += events;
    o.metrics.events.inc({ sink: name, outcome: 'acked' }, events);
  }

  /** A dead letter to send: the record, the events it holds, and confirmed events whose entry it acknowledges. */
  interface Outgoing {
    item: DeadLetterItem;
    events: number;
    acked: number;
  }

  /** An entry that cannot be read as a whole: dead-lettered whole, with every event it holds. */
  const wholeEntry = (item: DeadLetterItem): Outgoing => ({ item, events: packedEventCount(item.entry.fields ?? []) ?? 1, acked: 0 });

  /**
   * One event: a single-event entry is dead-lettered whole (that settles it); an event of a
   * packed entry alone, and the record acknowledges the entry only if it settles its last event.
   * If the process dies after such a record and before the entry's acknowledgement, the entry
   * is redelivered and this event may be dead-lettered a second time: at least once, never lost.
   */
  function oneEvent(d: EventDeadLetter): Outgoing {
    const confirmed = settles.settle(d.slot, false);
    const item: DeadLetterItem = { entry: d.slot.entry, code: d.code, reason: d.reason };
    if (d.eventId !== undefined) item.eventId = d.eventId;
    if (d.slot.packed) item.part = { index: d.slot.part, ack: confirmed !== undefined, deliveries: d.deliveries };
    return { item, events: 1, acked: confirmed ?? 0 };
  }

  async function deadLetter(out: readonly Outgoing[]): Promise<void> {
    if (out.length === 0) return;
    await o.deadLetter.send(out.map((x) => x.item));
    let events = 0;
    let acked = 0;
    for (const { item, events: n, acked: a } of out) {
      events += n;
      acked += a;
      o.metrics.deadLetters.inc({ sink: name, reason: item.code });
      const { entry, part } = item;
      o.logger.warn({ sink: name, stream: entry.stream, id: entry.id, part: part?.index, events: n, eventId: item.eventId, code: item.code, reason: item.reason }, 'event dead-lettered');
    }
    st.deadLettered += events;
    o.metrics.events.inc({ sink: name, outcome: 'dead_lettered' }, events);
    // The last event of a packed entry dead-lettered: the script acknowledged the entry, and with it the events confirmed before.
    countAcked(acked);
  }

  /** Claims or reads one batch, dead-letters what cannot be delivered; resolves with the rest. */
  async function fetch(): Promise<HeldEntry[]> {
    // No new read once stopped (a blocking one could outlast the deadline); one under way is kept.
    if (o.stopSignal.aborted) return [];
    let entries: StreamEntry[] = [];
    const count = sizer.count();
    if (Date.now() - lastClaimAt >= claimEveryMs) {
      lastClaimAt = Date.now();
      entries = await o.claimer.claim(count);
      if (entries.length > 0) o.logger.info({ sink: name, claimed: entries.length }, 'claimed entries left idle by another consumer');
    }
    if (entries.length === 0) {
      if (o.stopSignal.aborted) return []; // the stop came during the claim
      entries = await o.reader.read(count);
    }
    // A read that returns after the stop still delivered its entries to this consumer: they are
    // held and written by drain(), within the deadline, not left pending on a consumer that is gone.
    if (entries.length === 0) return [];
    const decoded = decodeBatch(entries, o.maxDeliveries, o.decodeCache);
    sizer.observe(decoded.entries, decoded.events);
    if (decoded.gone.length > 0) await o.acker.ack(decoded.gone);
    await deadLetter(decoded.deadLetters.map((d) => ('slot' in d ? oneEvent(d) : wholeEntry(d))));
    return decoded.held;
  }

  /** Queues `held` in write batches of at most `limit` events. */
  function enqueue(held: HeldEntry[]): void {
    queue.push(...splitBatches(held));
  }

  async function fill(): Promise<void> {
    enqueue(ahead ? await takeAhead() : await fetch());
    lastTouchAt = Date.now();
  }

  /** Starts reading the next batch while the current one is written, when the sink is healthy. */
  function readAhead(): void {
    // Only after a confirmed write (a sink down from the start holds one batch, not two), and
    // not while the reader walks the own pending list (it would return the batch being written).
    if (ahead || queue.length !== 1 || st.streak > 0 || st.lastSuccessAt === 0 || o.breaker.state() !== 'closed') return;
    if (o.stopSignal.aborted || !o.reader.readsNewOnly()) return;
    ahead = fetch().then(
      (held) => {
        aheadHeld = held;
        return { held };
      },
      (err: unknown) => ({ err }),
    );
  }

  async function takeAhead(): Promise<HeldEntry[]> {
    const r = await ahead!;
    ahead = undefined;
    aheadHeld = [];
    if ('err' in r) throw r.err;
    return r.held;
  }

  async function settle(out: WriteOutcome): Promise<void> {
    if (out.confirmed.length > 0) {
      // Only entries whose every event is now settled; the others wait for their remaining events.
      const complete: StreamEntry[] = [];
      let events = 0;
      for (const h of out.confirmed) {
        const confirmed = settles.settle(h, true);
        if (confirmed === undefined) continue;
        complete.push(h.entry);
        events += confirmed;
      }
      await acks.push(complete, events);
      // One counter update per (type, service) of the batch, not per event.
      const tally = new Map<string, { type: string; service: string; n: number }>();
      for (const { event } of out.confirmed) {
        const key = `${event.type}\n${event.source.serviceType}`;
        const t = tally.get(key);
        if (t) t.n++;
        else tally.set(key, { type: event.type, service: event.source.serviceType, n: 1 });
      }
      for (const t of tally.values()) {
        o.metrics.consumed.inc({ sink: name, type: t.type, service_type: o.metrics.serviceLabel(t.service) }, t.n);
      }
    }
    await deadLetter(out.rejected.map(({ held, reason }) => oneEvent({ slot: held, code: 'rejected', reason, eventId: held.event.id, deliveries: held.deliveries })));
  }

  /**
   * A lone event failed while the backend is healthy: one more delivery counted against it.
   * The PEL keeps one count per entry: it is raised to the highest count of the entry's events,
   * so a crash now still dead-letters the entry's unsettled events after `maxDeliveries`.
   */
  async function countFailure(held: HeldEntry, reason: string): Promise<void> {
    const { entry } = held;
    if (held.deliveries >= o.maxDeliveries) {
      const why = `sink "${name}" failed it ${held.deliveries} times (limit ${o.maxDeliveries}) while healthy; last error: ${reason}`;
      await deadLetter([oneEvent({ slot: held, code: 'max_deliveries', reason: why, eventId: held.event.id, deliveries: held.deliveries })]);
      return;
    }
    held.deliveries++;
    if (held.deliveries > entry.deliveries) {
      entry.deliveries = held.deliveries;
      await o.claimer.setDeliveries(entry, entry.deliveries);
    }
    queue.push([held]); // behind the others, so the rest flows while it waits
  }

  async function onFailure(remaining: HeldEntry[], retry: { reason: string; retryAfterMs?: number }): Promise<void> {
    o.breaker.failure();
    sinkFailing = true;
    st.streak++;
    st.retried += remaining.length;
    st.lastError = retry.reason;
    o.metrics.events.inc({ sink: name, outcome: 'retried' }, remaining.length);
    const dataSuspect = retry.retryAfterMs === undefined && (await sinkHealthy(o.sink, HEALTH_TIMEOUT_MS));
    if (dataSuspect && remaining.length > 1) {
      const mid = Math.ceil(remaining.length / 2);
      queue.unshift(remaining.slice(0, mid), remaining.slice(mid));
      return; // bisect at once: the halves that succeed are acknowledged without waiting
    }
    if (dataSuspect) await countFailure(remaining[0]!, retry.reason);
    else queue.unshift(remaining);
    if (dataSuspect && queue.length > 1) return;
    o.logger.warn({ sink: name, reason: retry.reason, waiting: remaining.length, failures: st.streak }, 'sink write failed; retrying later');
    await abortableSleep(backoffDelayMs(st.streak, o.retry, retry.retryAfterMs ?? 0), o.stopSignal);
  }

  async function attempt(): Promise<void> {
    if (o.breaker.state() === 'half-open' && queue[0]!.length > PROBE_BATCH_SIZE) {
      const first = queue.shift()!;
      queue.unshift(first.slice(0, PROBE_BATCH_SIZE), first.slice(PROBE_BATCH_SIZE));
    }
    if (Date.now() - lastTouchAt >= touchEveryMs) {
      // Long retries: keep other consumers from claiming what this one still holds.
      await o.claimer.touch([...new Set([...queue.flat(), ...aheadHeld].map((h) => h.entry))]);
      lastTouchAt = Date.now();
    }
    const batch = queue.shift()!;
    const out = await writeBatch(o.sink, batch, o.writeSignal);
    o.metrics.writes.inc({ sink: name, result: out.result });
    o.metrics.writeDuration.observe({ sink: name }, out.durationSeconds);
    await settle(out);
    if (out.remaining.length === 0 || !out.retry) {
      o.breaker.success();
      st.streak = 0;
      sinkFailing = false;
      st.lastSuccessAt = Date.now();
      return;
    }
    // Cut off by the shutdown deadline: not the events' failure (no delivery counted against
    // them, no bisecting); they stay pending for the next consumer.
    if (o.writeSignal.aborted) return;
    await onFailure(out.remaining, out.retry);
  }

  async function step(): Promise<void> {
    const waitMs = o.breaker.waitMs();
    if (waitMs > 0) return abortableSleep(waitMs, o.stopSignal);
    if (queue.length === 0) return fill();
    readAhead();
    return attempt();
  }

  /**
   * On stop: write what this consumer holds — the write batches still queued (a read that
   * returned as the stop came, the rest of a read cut into several batches), then the batch
   * read ahead — and wait for the last ack. One attempt per write batch, in read order, while
   * the sink is healthy (its last write did not fail, breaker closed) and the deadline
   * has not passed; at the first failure the drain stops, so what follows is not written ahead
   * of it. What is not confirmed stays pending for the next consumer.
   */
  async function drain(): Promise<void> {
    try {
      const ok = await writeOnce(queue.splice(0));
      if (ahead) {
        // Taken in any case (a read under way ends first); written only if all before it went.
        const r = await takeAhead().catch((err: unknown) => {
          o.logger.error({ sink: name, err }, 'read ahead failed at the stop; what it read stays pending for the next consumer');
          return undefined;
        });
        if (ok && r) await writeOnce(splitBatches(r));
      }
    } finally {
      draining = [];
      queue.length = 0;
      await acks.flush();
    }
  }

  /** Write batches of at most `limit` events. */
  function splitBatches(held: HeldEntry[]): HeldEntry[][] {
    const out: HeldEntry[][] = [];
    for (let i = 0; i < held.length; i += limit) out.push(held.slice(i, i + limit));
    return out;
  }

  /** drain(): one attempt per batch while the sink is healthy; false once it stopped early. */
  async function writeOnce(batches: HeldEntry[][]): Promise<boolean> {
    draining = batches;
    while (draining.length > 0) {
      if (sinkFailing || o.breaker.state() !== 'closed' || o.writeSignal.aborted) return false;
      queue.length = 0;
      queue.push(draining.shift()!);
      await attempt();
    }
    return true;
  }

  async function run(): Promise<void> {
    while (!o.stopSignal.aborted) {
      try {
        await step();
      } catch (err) {
        // Never die silently: log, forget what is held (it stays pending in Redis) and re-read it.
        st.streak++;
        st.lastError = err instanceof Error ? err.message : String(err);
        o.logger.error({ sink: name, err }, 'sink loop error; re-reading pending entries after a pause');
        await forget();
        await abortableSleep(backoffDelayMs(st.streak, o.retry), o.stopSignal);
      }
    }
    await drain().catch((err: unknown) => {
      o.logger.error({ sink: name, err }, 'sink loop drain failed; unacknowledged entries stay pending for the next consumer');
    });
  }

  /** After an error: drop what is held (it stays pending in Redis) and re-read from the pending list. */
  async function forget(): Promise<void> {
    queue.length = 0;
    if (ahead) await ahead; // let the read in flight end before rewinding its cursors
    ahead = undefined;
    aheadHeld = [];
    await acks.flush().catch(() => undefined); // a failed ack leaves entries pending: re-read below
    o.reader.rewind();
  }

  function status(): SinkLoopStatus {
    const s: SinkLoopStatus = {
      sink: name,
      group: o.group,
      breaker: o.breaker.state(),
      inFlight: [...queue, ...draining].reduce((n, b) => n + b.length, 0) + aheadHeld.length + acks.inFlight(),
      acked: st.acked,
      deadLettered: st.deadLettered,
      retried: st.retried,
      consecutiveFailures: st.streak,
    };
    if (st.lastError !== undefined) s.lastError = st.lastError;
    if (st.lastSuccessAt > 0) s.lastSuccessAt = st.lastSuccessAt;
    return s;
  }

  return { run, status };
}

import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { Redis } from 'ioredis';
import { ClosedError } from '../../errors.js';
import { isTerminalType, type JobscopeEvent } from '../../events/index.js';
import type { Sink, SinkHealth, SinkWriteResult } from '../sink.js';
import { createAttemptStore } from './attempt-store.js';
import { buildAttemptSpans, buildEnqueueSpan, type TerminalEvent } from './attempt-spans.js';
import { createResourceCache } from './otel-resource.js';
import { sampledByRatio } from './sampling.js';
import { exportSpans } from './span-export.js';
import { probeTcp } from './tcp-probe.js';

/** Options of {@link createOtelSink}. */
export interface OtelSinkOptions {
  /** Holds what a span needs across events (see attempt-store.ts). The caller owns and closes it. */
  redis: Redis;
  /** Key prefix. Default `jobscope`. */
  prefix?: string;
  /** Full OTLP/HTTP traces URL, e.g. `http://collector:4318/v1/traces`. */
  tracesUrl: string;
  /** Extra HTTP headers on every export (auth). */
  headers?: Record<string, string>;
  /** Export timeout in ms; bounds the exporter's own retries too. Default 10000. */
  timeoutMs?: number;
  /** Overrides `service.name`. Default `jobscope-<serviceType>` of each event. */
  serviceName?: string;
  /** `deployment.environment.name`. Default `development`. */
  environment?: string;
  /** Share of attempts exported, 0–1, decided from the trace id. Failed attempts are always kept. Default 1. */
  sampleRatio?: number;
  /** Largest batch per write. Default 200. */
  maxBatchSize?: number;
  /** Seconds an open attempt's state is kept in Redis. Default 86400. */
  attemptTtlSec?: number;
  /** Seconds an exported attempt's state is kept, so a redelivery re-exports identical spans. Default 3600. */
  doneTtlSec?: number;
  /** Most progress span events per attempt; more are counted (`jobscope.progress.dropped`). Default 100. */
  maxProgressPoints?: number;
}

/** Counters of an OTel sink, since it was created. */
export interface OtelSinkStats {
  spansExported: number;
  exportFailures: number;
  /** Terminal events not exported because their trace was sampled out. */
  attemptsSampledOut: number;
  /** Job events without a trace context, which cannot become spans. */
  eventsWithoutTrace: number;
}

/** The OTel sink, with its counters. */
export interface OtelSink extends Sink {
  stats(): OtelSinkStats;
}

/**
 * The OpenTelemetry traces sink: one trace per job attempt, exported over OTLP/HTTP (JSON)
 * when the attempt's terminal event arrives. Events are confirmed only on the exporter's
 * SUCCESS result.
 *
 * Retry layers: the OTLP exporter always retries 429/502/503/504 and network errors itself
 * (honouring Retry-After) but only within `timeoutMs`; when that budget is spent, `write`
 * returns `retry` and the pipeline's backoff takes over. Keep `timeoutMs` short for the
 * pipeline to stay in charge.
 */
export function createOtelSink(options: OtelSinkOptions): OtelSink {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const sampleRatio = options.sampleRatio ?? 1;
  const store = createAttemptStore({
    redis: options.redis,
    prefix: options.prefix,
    ttlSec: options.attemptTtlSec,
    doneTtlSec: options.doneTtlSec,
    maxProgressPoints: options.maxProgressPoints,
  });
  const exporter = new OTLPTraceExporter({
    url: options.tracesUrl,
    headers: options.headers ?? {},
    timeoutMillis: timeoutMs,
  });
  const resourceFor = createResourceCache({ serviceName: options.serviceName, environment: options.environment ?? 'development' });
  const scope = { name: 'jobscope', version: '1' };
  const stats: OtelSinkStats = { spansExported: 0, exportFailures: 0, attemptsSampledOut: 0, eventsWithoutTrace: 0 };
  let closing: Promise<void> | undefined;

  /** The terminal events of the batch whose spans must be exported. */
  function selectTerminals(events: readonly JobscopeEvent[]): TerminalEvent[] {
    const selected: TerminalEvent[] = [];
    for (const e of events) {
      if (!isTerminalType(e.type) || !e.job) continue;
      if (!e.trace) {
        stats.eventsWithoutTrace++;
        continue;
      }
      if (e.type !== 'job.failed' && !sampledByRatio(e.trace.traceId, sampleRatio)) {
        stats.attemptsSampledOut++;
        continue;
      }
      selected.push(e as TerminalEvent);
    }
    return selected;
  }

  async function write(events: readonly JobscopeEvent[], signal: AbortSignal): Promise<SinkWriteResult> {
    if (closing) throw new ClosedError('otel sink');
    const origin = (e: JobscopeEvent) => ({ resource: resourceFor(e.source), scope });
    // The events whose spans this write exports: confirmed only once the export succeeds.
    const pending = new Set<string>();
    const spans: ReadableSpan[] = [];
    // Enqueue spans come with the first attempt's receive, sampled as its attempt is; in a trace
    // the ratio left out, the first failure exported brings it (below).
    for (const e of events) {
      if (e.type !== 'job.received' || e.job.attempt !== 1 || !e.trace || !sampledByRatio(e.trace.traceId, sampleRatio)) continue;
      const send = buildEnqueueSpan(e, e.data.enqueuedAt, origin(e));
      if (send) {
        spans.push(send);
        pending.add(e.id);
      }
    }
    const terminals = selectTerminals(events);
    // A failure of a later attempt in a trace sampled out reads the first attempt's state too: the
    // first attempt may never have ended (its worker died), and so never sent the enqueue span.
    const sampled = terminals.map((e) => sampledByRatio(e.trace!.traceId, sampleRatio));
    const refs = terminals.map((e, i) => ({ event: e, jobId: e.job.id, attempt: e.job.attempt, first: !sampled[i] && e.job.attempt > 1 }));
    const read = await store.recordAndRead(events, refs);
    // The enqueue spans the failures of sampled-out traces send, one per trace.
    const sent = new Map<string, string>();
    terminals.forEach((e, i) => {
      const { state, first } = read[i]!;
      spans.push(...buildAttemptSpans(e, state, origin(e)));
      pending.add(e.id);
      if (sampled[i]) return;
      const traceId = e.trace!.traceId;
      // From the first attempt's state (its receive has the enqueue time), unless that says the
      // span went already, or is another trace's (a job id re-added since). A receive written
      // before receives named their trace counts as the first attempt's own.
      const from = e.job.attempt === 1 ? state : first;
      const ours = from !== undefined && (from.traceId === traceId || (from === state && from.traceId === undefined)) && from.enqueueSentFor !== traceId;
      const send = ours && !sent.has(traceId) ? buildEnqueueSpan(e, from.enqueuedAt, origin(e)) : undefined;
      if (send) {
        spans.push(send);
        sent.set(traceId, e.job.id);
      }
    });
    if (spans.length === 0) return { status: 'ok' };
    const outcome = await exportSpans(exporter, spans, signal, timeoutMs * 2 + 1_000);
    if (!outcome.ok) {
      stats.exportFailures++;
      return {
        status: 'retry',
        reason: outcome.reason,
        confirmedIds: events.filter((e) => !pending.has(e.id)).map((e) => e.id),
      };
    }
    stats.spansExported += spans.length;
    // Only shortens a TTL: if it fails the state simply lives its full TTL. Not for an attempt
    // number whose next run's receive is in the hash (markDone checks): that run's state is there now.
    if (refs.length > 0) await store.markDone(refs.map((r) => ({ jobId: r.jobId, attempt: r.attempt, endAt: r.event.time }))).catch(() => undefined);
    // Likewise: if it fails, a later failure of the trace sends the same enqueue span again.
    if (sent.size > 0) await store.markEnqueueSent([...sent].map(([traceId, jobId]) => ({ jobId, traceId }))).catch(() => undefined);
    return { status: 'ok' };
  }

  return {
    name: 'otel',
    maxBatchSize: options.maxBatchSize ?? 200,
    write,
    async health(): Promise<SinkHealth> {
      const error = await probeTcp(options.tracesUrl, Math.min(timeoutMs, 2_000));
      return error ? { ok: false, detail: `OTLP endpoint ${options.tracesUrl}: ${error}` } : { ok: true, detail: options.tracesUrl };
    },
    close() {
      closing ??= exporter.shutdown().catch(() => undefined);
      return closing;
    },
    stats: () => ({ ...stats }),
  };
}

import { NodeClient, Scope, defaultStackParser } from '@sentry/node';
import type { Redis } from 'ioredis';
import type { FingerprintPart } from '../../config/sentry-config.js';
import { ClosedError } from '../../errors.js';
import type { JobscopeEvent } from '../../events/index.js';
import { probeTcp } from '../otel/tcp-probe.js';
import type { Sink, SinkHealth, SinkRejection, SinkWriteResult } from '../sink.js';
import { verdictOf, type DeliveryVerdict } from './answer-verdict.js';
import { createBreadcrumbStore, type BreadcrumbStore } from './breadcrumb-store.js';
import { createDeliveryTracker } from './delivery-transport.js';
import { DEFAULT_FINGERPRINT } from './fingerprint.js';
import { buildSentryEvent, type FailedEvent } from './sentry-event.js';

/** Options of {@link createSentrySink}. */
export interface SentrySinkOptions {
  /** Project DSN, `https://<key>@<host>/<project id>`. */
  dsn: string;
  /** Keeps each job's recent events for breadcrumbs. Without it, events carry no breadcrumbs. The caller owns it. */
  redis?: Redis;
  /** Key prefix. Default `jobscope`. */
  prefix?: string;
  /** Sentry environment. Default `production`. */
  environment?: string;
  /** Sentry release (e.g. the commit sha). Default none. */
  release?: string;
  /** Report a failure only when no retry follows (`willRetry` not true). Default false: every failed attempt. */
  onlyFinal?: boolean;
  /** Fingerprint parts. Default `service, category, message`. */
  fingerprint?: readonly FingerprintPart[];
  /** HTTP timeout per event, in ms. Default 10000. */
  timeoutMs?: number;
  /** Largest batch per write (failures in it are sent in parallel). Default 50. */
  maxBatchSize?: number;
  /** Most breadcrumbs (earlier job events) per Sentry event. Default 50. */
  maxBreadcrumbs?: number;
}

/** Counters of a Sentry sink, since it was created. */
export interface SentrySinkStats {
  sent: number;
  retried: number;
  rejected: number;
  /** Failures skipped because `onlyFinal` is on and a retry follows. */
  skippedNotFinal: number;
}

/** The Sentry sink, with its counters. */
export interface SentrySink extends Sink {
  stats(): SentrySinkStats;
}

/**
 * The Sentry errors sink: each `job.failed` becomes a Sentry error event, sent through a
 * private `NodeClient` (no global `Sentry.init`, no auto-instrumentation). An event is
 * confirmed only when Sentry answered 2xx; while Sentry rate-limits us, nothing is sent and
 * `write` returns `retry` with the time left.
 */
export function createSentrySink(options: SentrySinkOptions): SentrySink {
  const fingerprint = options.fingerprint ?? DEFAULT_FINGERPRINT;
  const tracker = createDeliveryTracker({ timeoutMs: options.timeoutMs });
  const client = new NodeClient({
    dsn: options.dsn,
    transport: tracker.transport,
    stackParser: defaultStackParser,
    integrations: [],
    environment: options.environment ?? 'production',
    release: options.release,
    sendClientReports: false,
    includeServerName: false,
    maxBreadcrumbs: options.maxBreadcrumbs ?? 50,
    normalizeDepth: 5,
  });
  client.init();
  const crumbs: BreadcrumbStore | undefined = options.redis
    ? createBreadcrumbStore({ redis: options.redis, prefix: options.prefix, maxPerJob: options.maxBreadcrumbs })
    : undefined;
  const stats: SentrySinkStats = { sent: 0, retried: 0, rejected: 0, skippedNotFinal: 0 };
  let blockedUntil = 0;
  let closing: Promise<void> | undefined;

  async function deliver(event: FailedEvent, signal: AbortSignal): Promise<DeliveryVerdict> {
    const timeline = crumbs ? await crumbs.read(event.job.id) : [];
    const sentryEvent = buildSentryEvent(event, timeline, fingerprint);
    const answer = tracker.expect(sentryEvent.event_id!, signal);
    client.captureEvent(sentryEvent, { event_id: sentryEvent.event_id }, new Scope());
    const verdict = verdictOf(await answer);
    if (verdict.kind === 'retry' && verdict.retryAfterMs !== undefined) {
      blockedUntil = Math.max(blockedUntil, Date.now() + verdict.retryAfterMs);
    }
    return verdict;
  }

  function selectFailures(events: readonly JobscopeEvent[]): FailedEvent[] {
    const out: FailedEvent[] = [];
    for (const e of events) {
      if (e.type !== 'job.failed') continue;
      if (options.onlyFinal && e.data.willRetry === true) stats.skippedNotFinal++;
      else out.push(e);
    }
    return out;
  }

  async function write(events: readonly JobscopeEvent[], signal: AbortSignal): Promise<SinkWriteResult> {
    if (closing) throw new ClosedError('sentry sink');
    await crumbs?.record(events);
    const failures = selectFailures(events);
    if (failures.length === 0) return { status: 'ok' };
    const failureIds = new Set(failures.map((e) => e.id));
    const others = events.filter((e) => !failureIds.has(e.id)).map((e) => e.id);
    const waitMs = blockedUntil - Date.now();
    if (waitMs > 0) {
      stats.retried += failures.length;
      return { status: 'retry', reason: 'Sentry rate limit in force; nothing sent', retryAfterMs: waitMs, confirmedIds: others };
    }
    const verdicts = await Promise.all(failures.map((e) => deliver(e, signal)));
    return summarize(failures, verdicts, others);
  }

  function summarize(failures: FailedEvent[], verdicts: DeliveryVerdict[], confirmed: string[]): SinkWriteResult {
    const rejected: SinkRejection[] = [];
    let retry: { reason: string; retryAfterMs?: number } | undefined;
    verdicts.forEach((v, i) => {
      const id = failures[i]!.id;
      if (v.kind === 'ok') {
        stats.sent++;
        confirmed.push(id);
      } else if (v.kind === 'rejected') {
        stats.rejected++;
        rejected.push({ eventId: id, reason: v.reason });
      } else {
        stats.retried++;
        const after = Math.max(retry?.retryAfterMs ?? 0, v.retryAfterMs ?? 0);
        retry = { reason: retry?.reason ?? v.reason, ...(after > 0 ? { retryAfterMs: after } : {}) };
      }
    });
    const rejectedPart = rejected.length > 0 ? { rejected } : {};
    if (!retry) return { status: 'ok', ...rejectedPart };
    return { status: 'retry', ...retry, confirmedIds: confirmed, ...rejectedPart };
  }

  return {
    name: 'sentry',
    maxBatchSize: options.maxBatchSize ?? 50,
    write,
    async health(): Promise<SinkHealth> {
      const where = new URL(options.dsn);
      const base = `${where.protocol}//${where.host}`;
      const error = await probeTcp(base, 2_000);
      if (error) return { ok: false, detail: `Sentry at ${base}: ${error}` };
      const waitMs = blockedUntil - Date.now();
      return waitMs > 0 ? { ok: false, detail: `rate limited by Sentry for ${Math.ceil(waitMs / 1000)} s more` } : { ok: true, detail: base };
    },
    close() {
      closing ??= Promise.resolve(client.close(options.timeoutMs ?? 10_000)).then(
        () => undefined,
        () => undefined,
      );
      return closing;
    },
    stats: () => ({ ...stats }),
  };
}

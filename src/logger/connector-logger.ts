import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { DestinationStream } from 'pino';
import {
  eventStreamKeys,
  resolveIdentity,
  shardFor,
  type Attrs,
  type Identity,
  type IdentityEnv,
  type Level,
} from '../events/index.js';
import type { JobContextOptions, JobLogger, PublisherStats } from './types.js';
import { createJobLogger } from './job-logger.js';
import { createLogLines, type LogLevelName } from './log-lines.js';
import { createLoggerCore, type EmitTarget, type LoggerCore } from './logger-core.js';
import { createPublisher, type Publisher } from './publisher.js';
import { createPublisherClient } from './redis-client.js';
import { createRateLimitedWarning } from './rate-limited-warning.js';
import { cleanAttrs, cleanFields, cleanMessage, cleanNumber, cleanText, type Issues } from './sanitize.js';
import { installSignalDrain, type SignalDrainOptions } from './signal-drain.js';
import {
  cleanJobIds,
  workerStartedData,
  type HealthStatus,
  type HeartbeatFields,
  type WorkerStartedFields,
  type WorkerStoppedFields,
} from './worker-events.js';

/** Options of {@link ConnectorLogger}. Field names after the identity match `LoggerConfig`, so `{ ...loadLoggerConfig(env) }` fits. */
export interface ConnectorLoggerOptions extends Partial<Identity> {
  /** Environment for identity defaults (`MACHINE_ID`, Railway variables, …); pass `process.env` from the edge. Default `{}`. */
  env?: IdentityEnv;
  /** An ioredis client (not closed by the logger) or a URL (a client of its own). Default `redis://127.0.0.1:6379`. */
  redis?: Redis | string;
  /** Key prefix. Default `jobscope`. */
  prefix?: string;
  /** Number of event stream shards. Default 1. */
  shards?: number;
  /** Lowest level of the JSON lines. Default `info`. */
  level?: LogLevelName;
  /** One JSON line per call (false: only the logger's own warnings). Default true. */
  stdout?: boolean;
  /** Where JSON lines go. Default stdout. */
  destination?: DestinationStream;
  /** Most events held in memory. Default 10000. */
  bufferMaxEvents?: number;
  /** Most bytes of event JSON held in memory (characters; each event counted whole). Default 16 MiB. */
  bufferMaxBytes?: number;
  /** Spool directory. Default `<cwd>/.jobscope/spool` (created only when needed). */
  spoolDir?: string;
  /** Spool file name; a restarted worker with the same name replays it. Default from the identity. */
  spoolName?: string;
  /** Largest spool file in bytes; 0 turns the spool off. Default 256 MiB. */
  spoolMaxBytes?: number;
  /** Longest wait before a partial batch is sent, in ms. Default 20. */
  flushIntervalMs?: number;
  /** Events per XADD batch. Default 200. */
  flushBatch?: number;
  /** Write runs of events as packed stream entries (see pack.ts). Default true; false: one whole event per entry. */
  packEvents?: boolean;
  /** Deadline of one XADD batch, in ms. Default 5000. */
  commandTimeoutMs?: number;
  /** Check every event with the zod schema before sending (costs a few µs per call). Default false. */
  validateEvents?: boolean;
  /** Clock, Unix ms (tests). Default `Date.now`. */
  now?: () => number;
}

const DEFAULT_HEARTBEAT_MS = 30_000;

/**
 * The logger a job worker uses: stamps the identity and trace ids onto job lifecycle events,
 * publishes them to the Redis event stream, and writes one JSON line per call.
 *
 * No logger call throws or waits. Bad arguments are counted (`stats().invalidCalls`) and
 * reported with a warn line; bad optional values are left out, over-long strings cut,
 * out-of-range progress clamped; only a bad required value (progress that is not a number)
 * drops the event. The constructor does throw (a `ValidationError`) for an invalid explicit
 * identity: that is a start-up configuration error.
 */
export class ConnectorLogger {
  /** The resolved identity of this logger. */
  readonly identity: Identity;
  /** Unique id of this logger instance; with `seq`, consumers detect gaps. */
  readonly producer: string;
  private readonly core: LoggerCore;
  private readonly publisher: Publisher;
  private readonly root: EmitTarget;
  private readonly streamFor: (routingKey: string) => string;
  private readonly startedAt: number;
  private heartbeatMs = DEFAULT_HEARTBEAT_MS;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private uninstallSignals: (() => void) | undefined;
  private closing: Promise<boolean> | undefined;
  private readonly handOvers = new Set<() => void>();

  constructor(options: ConnectorLoggerOptions = {}) {
    const o = options;
    this.identity = resolveIdentity(
      { machineId: o.machineId, workerId: o.workerId, serviceType: o.serviceType, connectorId: o.connectorId, instance: o.instance },
      o.env ?? {},
    );
    this.producer = `${this.identity.connectorId.slice(0, 64)}-${randomBytes(8).toString('hex')}`;
    // A clock of the caller's (tests) that gives no time (NaN, a fraction, 0 from fake timers) would make every event invalid: Date.now stands in.
    const clock = o.now;
    const now = clock === undefined ? Date.now : (): number => {
      const t = clock();
      return Number.isSafeInteger(t) && t > 0 ? t : Date.now();
    };
    this.startedAt = now();
    const { log, linesEnabled, write } = createLogLines({ identity: this.identity, level: o.level, stdout: o.stdout, destination: o.destination });
    const onWarn = (message: string, fields: Record<string, unknown>) => log.warn({ event_type: 'jobscope.publisher', ...fields }, message);
    // ioredis reports every failed reconnect; say it at most once per 10 s.
    const connectionWarning = createRateLimitedWarning({ sink: onWarn, intervalMs: 10_000 });
    const ownsClient = typeof o.redis !== 'object';
    const redis = ownsClient
      ? createPublisherClient({
          url: (o.redis as string | undefined) ?? 'redis://127.0.0.1:6379',
          onError: (err) => connectionWarning('redis-connection', `jobscope: Redis connection error: ${err.message}`),
        })
      : (o.redis as Redis);
    const id = this.identity;
    this.publisher = createPublisher({
      redis,
      ownsClient,
      maxBufferEvents: o.bufferMaxEvents,
      maxBufferBytes: o.bufferMaxBytes,
      flushIntervalMs: o.flushIntervalMs,
      flushBatch: o.flushBatch,
      packEvents: o.packEvents,
      commandTimeoutMs: o.commandTimeoutMs,
      spool: {
        dir: o.spoolDir ?? join(process.cwd(), '.jobscope', 'spool'),
        name: o.spoolName ?? `${id.machineId}_${id.workerId}_${id.connectorId}`.replace(/[^A-Za-z0-9._-]/g, '-'),
        maxBytes: o.spoolMaxBytes ?? 256 * 1024 * 1024,
      },
      onWarn: (message, fields) => onWarn(message, fields),
    });
    this.core = createLoggerCore({ identity: id, producer: this.producer, publisher: this.publisher, log, linesEnabled, write, validateEvents: o.validateEvents ?? false, now });
    const shards = Math.max(1, o.shards ?? 1);
    // One string per shard, made once: a job's stream is looked up, not built, per job.
    const streams = eventStreamKeys({ prefix: o.prefix, shards });
    this.streamFor = shards === 1 ? () => streams[0]! : (key) => streams[shardFor(key, shards)]!;
    this.root = { attemptJson: undefined, stream: this.streamFor(this.producer), log, lineMembers: '' };
  }

  /** A logger bound to one job attempt, with its own trace span (joining `traceparent` when given). */
  withJobContext(jobId: string, options?: JobContextOptions): JobLogger {
    return createJobLogger(this.core, jobId, options, this.streamFor);
  }

  /** Reports the health of the service this connector talks to (a `log` event, kind `health`). */
  healthCheck(status: HealthStatus, details?: Attrs): void {
    this.guard('healthCheck', (issues) => {
      if (status !== 'healthy' && status !== 'degraded' && status !== 'unhealthy') {
        issues.push(`status: must be healthy, degraded or unhealthy, got ${String(status).slice(0, 40)}`);
        return false;
      }
      const level: Level = status === 'healthy' ? 'info' : status === 'degraded' ? 'warn' : 'error';
      const attrs = cleanAttrs(details, issues, 'details');
      return this.core.emit(this.root, 'log', level, `health: ${status}`, attrs, undefined, { kind: 'health', status });
    });
  }

  /** A typed service event (a `log` event, kind `service`, named `type`), e.g. `model-loaded`. */
  serviceEvent(type: string, message: string, data?: Attrs): void {
    this.guard('serviceEvent', (issues) => {
      const name = cleanText(type, 128, issues, 'type');
      if (name === undefined) return false;
      const m = cleanMessage(message, issues);
      const attrs = cleanAttrs(data, issues, 'data');
      return this.core.emit(this.root, 'log', 'info', m, attrs, undefined, { kind: 'service', name });
    });
  }

  /** A worker-level log line (not bound to a job). */
  log(level: Level, message: string, attrs?: Attrs): void {
    this.guard('log', (issues) => {
      const lv: Level = level === 'debug' || level === 'warn' || level === 'error' ? level : 'info';
      if (lv !== level) issues.push(`level: must be debug, info, warn or error; using info`);
      const m = cleanMessage(message, issues) ?? '';
      return this.core.emit(this.root, 'log', lv, m, cleanAttrs(attrs, issues), undefined, { kind: 'log' });
    });
  }

  /** Announces the worker (`worker.started`). */
  workerStarted(fields?: WorkerStartedFields): void {
    this.guard('workerStarted', (issues) => {
      const f = cleanFields(fields, issues);
      const data = workerStartedData(f, issues) as { heartbeatIntervalMs?: number };
      if (data.heartbeatIntervalMs !== undefined) this.heartbeatMs = data.heartbeatIntervalMs;
      const message = cleanMessage(f.message, issues);
      return this.core.emit(this.root, 'worker.started', 'info', message, cleanAttrs(f.attrs, issues), undefined, data);
    });
  }

  /** One heartbeat (`worker.heartbeat`) with the jobs running now. */
  heartbeat(fields: HeartbeatFields): void {
    this.guard('heartbeat', (issues) => {
      const f = cleanFields(fields, issues);
      const data = {
        intervalMs: cleanNumber(f.intervalMs, 'positiveInt', issues, 'intervalMs') ?? this.heartbeatMs,
        currentJobs: cleanJobIds(f.currentJobs, issues),
        uptimeMs: Math.max(0, this.core.now() - this.startedAt),
        rssBytes: process.memoryUsage.rss(),
      };
      return this.core.emit(this.root, 'worker.heartbeat', 'debug', undefined, undefined, undefined, data);
    });
  }

  /**
   * Sends a heartbeat every `intervalMs` with `currentJobs()`, until `close()` or the returned
   * function is called. The timer does not keep the process alive.
   */
  startHeartbeats(intervalMs: number, currentJobs: () => string[]): () => void {
    this.stopHeartbeats();
    if (!Number.isInteger(intervalMs) || intervalMs <= 0) {
      this.core.invalid('startHeartbeats', [`intervalMs: must be a positive integer, got ${String(intervalMs)}`], undefined, 'heartbeats not started');
      return () => {};
    }
    this.heartbeatMs = intervalMs;
    const tick = () => {
      let jobs: string[] = [];
      try {
        jobs = currentJobs();
      } catch (err) {
        this.core.invalid('startHeartbeats', [`currentJobs() threw: ${(err as Error)?.message}`]);
      }
      this.heartbeat({ currentJobs: jobs, intervalMs });
    };
    this.heartbeatTimer = setInterval(tick, intervalMs);
    this.heartbeatTimer.unref();
    tick();
    return () => this.stopHeartbeats();
  }

  /** Announces a clean stop (`worker.stopped`). */
  workerStopped(fields?: WorkerStoppedFields): void {
    this.guard('workerStopped', (issues) => {
      const f = cleanFields(fields, issues);
      const data = { reason: cleanText(f.reason, 1024, issues, 'reason'), uptimeMs: Math.max(0, this.core.now() - this.startedAt) };
      return this.core.emit(this.root, 'worker.stopped', 'info', cleanMessage(f.message, issues), undefined, undefined, data);
    });
  }

  /** Counters of the publisher and of bad calls. */
  stats(): PublisherStats {
    return { ...this.publisher.stats(), invalidCalls: this.core.invalidCalls };
  }

  /** Resolves true once everything logged so far is in Redis, false after `timeoutMs` (default 5000). Never rejects. */
  flush(timeoutMs = 5000): Promise<boolean> {
    this.handOver();
    return this.publisher.flush(timeoutMs);
  }

  /**
   * Registers a function that hands this logger events held back elsewhere (the job runtime
   * stages its lifecycle events and hands them over in batches); `flush` and `close` call it
   * first, so they cover those events too. Returns the function that removes it.
   */
  onFlush(handOver: () => void): () => void {
    this.handOvers.add(handOver);
    return () => this.handOvers.delete(handOver);
  }

  private handOver(): void {
    for (const h of this.handOvers) {
      try {
        h();
      } catch (err) {
        this.core.invalid('flush', [`a hand-over failed: ${(err as Error)?.message}`]);
      }
    }
  }

  /**
   * Stops heartbeats, drains for up to `timeoutMs` (default 5000), spools what Redis did not
   * take (replayed by the next logger with the same spool), and releases the connection it
   * created. Idempotent: later calls return the first call's promise. Resolves true when
   * everything reached Redis.
   */
  close(timeoutMs = 5000): Promise<boolean> {
    this.closing ??= (async () => {
      this.stopHeartbeats();
      this.handOver();
      this.uninstallSignals?.();
      return this.publisher.close(timeoutMs);
    })();
    return this.closing;
  }

  /**
   * Opt-in: on SIGTERM/SIGINT, close (drain) the logger, then let the signal take its
   * default course if nothing else handles it. Returns a function that uninstalls the handler.
   */
  drainOnSignals(options: SignalDrainOptions = {}): () => void {
    this.uninstallSignals?.();
    const uninstall = installSignalDrain((ms) => this.close(ms), options);
    this.uninstallSignals = uninstall;
    return uninstall;
  }

  private stopHeartbeats(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
  }

  /** Runs one worker-level call: never throws; issues are counted; `false` means dropped. */
  private guard(call: string, body: (issues: Issues) => string | false | undefined): void {
    const issues: Issues = [];
    try {
      const r = body(issues);
      if (r === false) this.core.invalid(call, issues, undefined, issues.at(-1) ?? 'bad arguments');
      else if (issues.length > 0) this.core.invalid(call, issues);
    } catch (err) {
      this.core.invalid(call, [`unexpected error: ${(err as Error)?.message}`], undefined, 'internal error');
    }
  }
}

import { EVENT_TYPES, lastEventId, MAX_EVENTS_PER_ENTRY, takeEventId, type AiUsage, type Attrs, type ErrorInput, type EventType, type JobRef, type Level, type TraceRef } from '../events/index.js';
import type { Logger } from 'pino';
import type {
  CommonFields,
  JobCancelledFields,
  JobCompletedFields,
  JobContextOptions,
  JobFailedFields,
  JobLogger,
  JobProgressFields,
  JobReceivedFields,
  JobRetryingFields,
  JobStartedFields,
} from './types.js';
import { attemptTraceparent, createJobAttempt } from './job-context.js';
import { attemptMembers, millisText, numberMember, ownMembers, plainOwnMembersLength } from './event-encoder.js';
import { cancelledData, completedData, failedData, progressData, receivedData, retryingData, startedData, type DataBuilder } from './lifecycle-data.js';
import type { EmitTarget, LoggerCore } from './logger-core.js';
import { attemptBindings, bindingMembers, eventLine } from './log-lines.js';
import { cleanAi, cleanAttrs, cleanFields, cleanMessage, cleanNumber, mergeUsage, type Issues } from './sanitize.js';

/**
 * The logger of one job attempt. Every method is fire-and-forget: arguments are checked
 * cheaply (see sanitize.ts), problems are counted and reported, and nothing is thrown.
 * `durationMs` defaults to the time since `jobStarted`, else `jobReceived`, else creation.
 *
 * A class, not a closure per method: a job worker makes one per job, and per-job closures
 * (a dozen methods, a builder per call) were a measurable share of a no-op job's cost.
 */


/**
 * A packed line that follows the line before it (`"^": 1`): its id, seq and level are that
 * line's next id, next seq and level, and its time too unless `time` is given.
 */
function followingLine(time: number | undefined, type: EventType, data: string, attempt: string): string {
  // The constant parts made once per type: fewer pieces to join per line.
  return time === undefined ? `${FOLLOWING_TYPE[type]}${data},${attempt}}` : `{"^":1,"time":${time},"type":"${type}","data":${data},${attempt}}`;
}

const FOLLOWING_TYPE = Object.fromEntries(EVENT_TYPES.map((t) => [t, `{"^":1,"type":"${t}","data":`])) as Record<EventType, string>;

/** `"@":<line>` for every line of a pack, made once. */
const LINE_REFS: string[] = Array.from({ length: MAX_EVENTS_PER_ENTRY }, (_, k) => `"@":${k}`);

/** The latest time the schema takes, in Unix ms. */
const MAX_TIME = 8.64e15;

/** The data of every plain log line (encoded, never changed). */
const LOG_DATA = Object.freeze({ kind: 'log' });

/**
 * The job runtime's way in for the lifecycle events it stages (job-processor.ts): the same
 * events as `jobReceived` + `jobStarted` and `jobCompleted`, from values the runtime made
 * (BullMQ's timestamps, its own clock and counts), without an options object per call to
 * take apart. A value outside the schema's rules goes the checked way instead, and is reported.
 */
export interface StagedLifecycle {
  /** `queueWaitMs` undefined: none is reported (a retry: its time since the enqueue is not a queue wait). */
  stagedStart(at: number, enqueuedAt: number, queueWaitMs: number | undefined, priority: number | undefined): void;
  stagedCompleted(at: number, durationMs: number, ai: AiUsage | undefined, outputCount: number | undefined, outputSize: number | undefined): void;
  /** `stagedStart` then `stagedCompleted`, for an attempt that ended before its start was handed over. */
  stagedAttempt(
    at: number,
    enqueuedAt: number,
    queueWaitMs: number | undefined,
    priority: number | undefined,
    endAt: number,
    durationMs: number,
    outputCount: number | undefined,
    outputSize: number | undefined,
  ): void;
}

/** Whether a job logger takes staged lifecycle events (the ConnectorLogger's do). */
export function takesStagedLifecycle(jl: JobLogger): jl is JobLogger & StagedLifecycle {
  return typeof (jl as Partial<StagedLifecycle>).stagedStart === 'function';
}

/**
 * The data of a staged job.received, as JSON (values checked by the caller). Its queue wait is
 * the runtime's (a first attempt's, from BullMQ's timestamps), or none, and then no enqueue time
 * either (as the checked way, where a wait would be counted from it): a retry's time since the
 * enqueue would count the earlier attempts and their backoff as waiting in the queue.
 */
const receivedJson = (enqueuedAt: number, queueWaitMs: number | undefined, priority: number | undefined): string =>
  queueWaitMs === undefined ? (priority === undefined ? '{}' : `{"priority":${priority}}`) : `{"enqueuedAt":${enqueuedAt},"queueWaitMs":${queueWaitMs}${numberMember('priority', priority)}}`;
/** The data of a staged job.started, as JSON. */
const startedJson = (queueWaitMs: number | undefined): string => (queueWaitMs === undefined ? '{}' : `{"queueWaitMs":${queueWaitMs}}`);
/** The data of a staged job.completed without usage, as JSON. */
const completedJson = (durationMs: number, outputCount: number | undefined, outputSize: number | undefined): string =>
  `{"durationMs":${millisText(durationMs)}${numberMember('outputCount', outputCount)}${numberMember('outputSize', outputSize)}}`;

const isTime = (t: number): boolean => Number.isInteger(t) && t > 0 && t <= MAX_TIME;
const isNonNeg = (n: number | undefined): boolean => n === undefined || (n >= 0 && n <= Number.MAX_SAFE_INTEGER);
const isCount = (n: number | undefined): boolean => n === undefined || (Number.isSafeInteger(n) && n >= 0);
/** Whether a staged start's values are all within the schema's rules (else it goes the checked way). */
const plainStart = (at: number, enqueuedAt: number, queueWaitMs: number | undefined, priority: number | undefined): boolean =>
  isTime(at) && isTime(enqueuedAt) && isNonNeg(queueWaitMs) && (priority === undefined || Number.isSafeInteger(priority));
/** The same for a staged completion without usage. */
const plainEnd = (at: number, durationMs: number, outputCount: number | undefined, outputSize: number | undefined): boolean =>
  isTime(at) && isNonNeg(durationMs) && isCount(outputCount) && isCount(outputSize);

/** Creates the {@link JobLogger} of one attempt; `streamFor` picks the job's stream shard. */
export function createJobLogger(
  core: LoggerCore,
  jobId: string,
  options: JobContextOptions | undefined,
  streamFor: (routingKey: string) => string,
): JobLogger {
  return new AttemptLogger(core, jobId, options, streamFor);
}

/**
 * One attempt's logger, and the target its events are emitted to: it holds the attempt's
 * stream, its JSON members (written on first use) and its pino child (made on first use; with
 * JSON lines off only a warning needs it).
 */
class AttemptLogger implements JobLogger, EmitTarget, StagedLifecycle {
  readonly jobId: string;
  readonly attempt: number;
  readonly traceId: string;
  readonly spanId: string;
  readonly job: JobRef;
  readonly stream: string;
  private readonly trace: TraceRef;
  private readonly createdAt: number;
  receivedAt: number | undefined;
  startedAt: number | undefined;
  private usage: AiUsage | undefined;
  private members: string | undefined;
  private lineJson: string | undefined;
  private pino: Logger | undefined;
  /** The time of the event being built (for `elapsed`). */
  private eventTime = 0;
  /** The open pack (by generation) and line where {@link writeLines} last wrote this attempt's members whole. */
  private packGeneration = -1;
  private packLine = 0;

  constructor(
    private readonly core: LoggerCore,
    jobId: string,
    options: JobContextOptions | undefined,
    streamFor: (routingKey: string) => string,
  ) {
    const issues: Issues = [];
    const attempt = createJobAttempt(jobId, options, issues);
    this.job = attempt.job;
    this.trace = attempt.trace;
    this.jobId = attempt.job.id;
    this.attempt = attempt.job.attempt;
    this.traceId = attempt.trace.traceId;
    this.spanId = attempt.trace.spanId;
    this.stream = streamFor(attempt.job.id);
    this.createdAt = core.now();
    this.receivedAt = undefined;
    this.startedAt = undefined;
    this.usage = undefined;
    this.members = undefined;
    this.lineJson = undefined;
    this.pino = undefined;
    if (issues.length > 0) core.invalid('withJobContext', issues, this.log);
  }

  /** The attempt's span as a W3C `traceparent` (made on each read: only calls that pass it on ask). */
  get traceparent(): string {
    return attemptTraceparent(this.trace);
  }

  /** The attempt's `"job":…,"trace":…` JSON members, written once. */
  get attemptJson(): string {
    return (this.members ??= attemptMembers(this.job, this.trace));
  }

  get log(): Logger {
    const { job, trace } = this;
    return (this.pino ??= this.core.log.child(attemptBindings(job.id, job.attempt, trace.traceId, trace.spanId)));
  }

  /** What {@link log} adds to a line, as its members (for the lines of events, written by hand). */
  get lineMembers(): string {
    const { job, trace } = this;
    return (this.lineJson ??= bindingMembers(attemptBindings(job.id, job.attempt, trace.traceId, trace.spanId)));
  }

  /** `durationMs` as given, else from start (or receipt, or creation) to the event being built. */
  elapsed(given: unknown, issues: Issues): number {
    const d = cleanNumber(given, 'nonNeg', issues, 'durationMs');
    return d ?? Math.max(0, this.eventTime - (this.startedAt ?? this.receivedAt ?? this.createdAt));
  }

  /** The time an event happened: its `at` when that is a time, else now. */
  private timeOf(fields: CommonFields | undefined): number {
    const at = fields?.at;
    return typeof at === 'number' && isTime(at) ? at : this.core.now();
  }

  private lifecycle<F extends CommonFields>(call: string, type: EventType, level: Level, fields: F | undefined, build: DataBuilder<F>, time: number = this.timeOf(fields)): void {
    const { core } = this;
    try {
      const issues: Issues = [];
      const f = cleanFields(fields, issues);
      if (f.at !== undefined && time !== f.at) issues.push(`at: must be a time in Unix ms (a positive integer), got ${String(f.at).slice(0, 40)}; using now`);
      const message = cleanMessage(f.message, issues);
      const attrs = cleanAttrs(f.attrs, issues);
      if (f.ai !== undefined) {
        const ai = cleanAi(f.ai, issues);
        if (ai) this.usage = mergeUsage(this.usage, ai);
      }
      this.eventTime = time;
      const data = build(this, f, issues);
      if (data === undefined) return core.invalid(call, issues, this.log, issues.at(-1) ?? 'bad arguments');
      if (issues.length > 0) core.invalid(call, issues, this.log);
      core.emit(this, type, level, message, attrs, this.usage, data, time);
    } catch (err) {
      core.invalid(call, [`unexpected error: ${(err as Error)?.message}`], core.log, 'internal error');
    }
  }

  private plainLog(level: Level, message: string, attrs: Attrs | undefined): void {
    const { core } = this;
    try {
      const issues: Issues = [];
      const m = cleanMessage(message, issues) ?? '';
      const a = cleanAttrs(attrs, issues);
      if (issues.length > 0) core.invalid(level, issues, this.log);
      // The attempt's usage so far, as every event of it carries (none unless recorded).
      core.emit(this, 'log', level, m, a, this.usage, LOG_DATA);
    } catch (err) {
      core.invalid(level, [`unexpected error: ${(err as Error)?.message}`], core.log, 'internal error');
    }
  }

  jobReceived(fields?: JobReceivedFields): void {
    const time = this.timeOf(fields);
    this.receivedAt ??= time;
    this.lifecycle('jobReceived', 'job.received', 'info', fields, receivedData, time);
  }

  /** Records a start at `at` for `durationMs` defaults (see {@link elapsed}). */
  private markStarted(at: number): void {
    this.receivedAt ??= at;
    this.startedAt = at;
  }

  jobStarted(fields?: JobStartedFields): void {
    const time = this.timeOf(fields);
    this.startedAt = time;
    this.lifecycle('jobStarted', 'job.started', 'info', fields, startedData, time);
  }

  jobProgress(progress: number, fields?: JobProgressFields): void {
    this.lifecycle('jobProgress', 'job.progress', 'info', fields, (_l, f, is) => progressData(progress, f, is));
  }

  jobCompleted(fields?: JobCompletedFields): void {
    this.lifecycle('jobCompleted', 'job.completed', 'info', fields, completedData);
  }

  jobFailed(error: ErrorInput, fields?: JobFailedFields): void {
    this.lifecycle('jobFailed', 'job.failed', 'error', fields, (l, f, is) => failedData(error, l, f, is));
  }

  jobRetrying(fields?: JobRetryingFields): void {
    this.lifecycle('jobRetrying', 'job.retrying', 'warn', fields, retryingData);
  }

  jobCancelled(fields?: JobCancelledFields): void {
    this.lifecycle('jobCancelled', 'job.cancelled', 'warn', fields, cancelledData);
  }

  stagedStart(at: number, enqueuedAt: number, queueWaitMs: number | undefined, priority: number | undefined): void {
    if (!plainStart(at, enqueuedAt, queueWaitMs, priority)) {
      // Without a queue wait (a retry) no enqueue time either: jobReceived would count the wait from it.
      this.jobReceived({ at, ...(queueWaitMs !== undefined ? { enqueuedAt, queueWaitMs } : {}), priority });
      this.jobStarted({ at, queueWaitMs });
      return;
    }
    const { core } = this;
    this.markStarted(at);
    try {
      // The data's JSON written here (the values are checked above).
      const received = receivedJson(enqueuedAt, queueWaitMs, priority);
      const started = startedJson(queueWaitMs);
      if (this.writeLines(at, 'job.received', received, 'job.started', started)) return;
      core.emit(this, 'job.received', 'info', undefined, undefined, this.usage, received, at);
      core.emit(this, 'job.started', 'info', undefined, undefined, this.usage, started, at);
    } catch (err) {
      core.invalid('jobStarted', [`unexpected error: ${(err as Error)?.message}`], core.log, 'internal error');
    }
  }

  stagedCompleted(at: number, durationMs: number, ai: AiUsage | undefined, outputCount: number | undefined, outputSize: number | undefined): void {
    if (!plainEnd(at, durationMs, outputCount, outputSize) || ai !== undefined) {
      // Usage goes the checked way: it is merged field by field.
      this.jobCompleted({ at, durationMs, ai, outputCount, outputSize });
      return;
    }
    const { core } = this;
    try {
      const data = completedJson(durationMs, outputCount, outputSize);
      if (this.writeLines(at, 'job.completed', data)) return;
      core.emit(this, 'job.completed', 'info', undefined, undefined, this.usage, data, at);
    } catch (err) {
      core.invalid('jobCompleted', [`unexpected error: ${(err as Error)?.message}`], core.log, 'internal error');
    }
  }

  stagedAttempt(
    at: number,
    enqueuedAt: number,
    queueWaitMs: number | undefined,
    priority: number | undefined,
    endAt: number,
    durationMs: number,
    outputCount: number | undefined,
    outputSize: number | undefined,
  ): void {
    if (this.core.direct !== undefined && this.usage === undefined && plainStart(at, enqueuedAt, queueWaitMs, priority) && plainEnd(endAt, durationMs, outputCount, outputSize)) {
      try {
        this.markStarted(at);
        const received = receivedJson(enqueuedAt, queueWaitMs, priority);
        const completed = completedJson(durationMs, outputCount, outputSize);
        if (this.writeLines(at, 'job.received', received, 'job.started', startedJson(queueWaitMs), 'job.completed', completed, endAt)) return;
      } catch (err) {
        // Nothing was added (the lines are appended last): the general way below may still write them.
        this.core.invalid('jobStarted', [`unexpected error: ${(err as Error)?.message}`], this.core.log);
      }
    }
    // The general way: each part checked (and reported) as it would be on its own.
    this.stagedStart(at, enqueuedAt, queueWaitMs, priority);
    this.stagedCompleted(endAt, durationMs, undefined, outputCount, outputSize);
  }

  /**
   * Writes `n` (1–3) `info` events of this attempt, with no message or attributes, straight as
   * lines of the open pack (LoggerCore.direct): what `emit` would publish, without an object per
   * event: `type` and `type2` (when given) at `at`, `type3` (when given, after `type2`) at `at3`.
   * A line whose id, seq and level follow from the line before it in the pack leaves them out
   * (`"^": 1`, and its time too when it is the same; see events/packed-entry.ts). False when the
   * events must be emitted instead (see DirectLines; or usage to carry).
   */
  private writeLines(at: number, type: EventType, data: string, type2?: EventType, data2?: string, type3?: EventType, data3?: string, at3: number = at): boolean {
    const direct = this.core.direct;
    if (direct === undefined || this.usage !== undefined) return false;
    const n = type3 !== undefined ? 3 : type2 !== undefined ? 2 : 1;
    const seq = direct.nextSeq;
    const members = this.attemptJson;
    // Counted as emit counts: each event whole, with the attempt's members (a bound, not a measure).
    let bytes = plainOwnMembersLength(at, 'info', type, seq, data) + members.length;
    if (n > 1) bytes += plainOwnMembersLength(at, 'info', type2!, seq + 1, data2!) + members.length;
    if (n > 2) bytes += plainOwnMembersLength(at3, 'info', type3!, seq + 2, data3!) + members.length;
    const line = direct.reserve(this.stream, n, bytes);
    if (line < 0) return false;
    const gen = direct.generation;
    const before = direct.lastStamp;
    // The ids are taken as emit takes them; their text is made only for a line that writes it.
    const emitted = this.core.now();
    // The JSON lines of the events (when written), each with its id's text, made as the id is taken.
    const head = this.core.lineHead('info');
    const stamp = takeEventId(emitted);
    const first = this.lineOf(before !== undefined && stamp === before + 1, at, direct.lastTime, type, seq, data, gen, line);
    const out = head === undefined ? '' : this.outLine(head, type, seq, data, at);
    if (n === 1) {
      direct.append(this.stream, 1, first, bytes, stamp, at);
      if (head !== undefined) this.core.writeOut(out);
      return true;
    }
    const stamp2 = takeEventId(emitted);
    const second = this.lineOf(stamp2 === stamp + 1, at, at, type2!, seq + 1, data2!, gen, line + 1);
    const out2 = head === undefined ? '' : this.outLine(head, type2!, seq + 1, data2!, at);
    if (n === 2) {
      direct.append(this.stream, 2, `${first}\n${second}`, bytes, stamp2, at);
      if (head !== undefined) this.core.writeOut(out + out2);
      return true;
    }
    const stamp3 = takeEventId(emitted);
    const third = this.lineOf(stamp3 === stamp2 + 1, at3, at, type3!, seq + 2, data3!, gen, line + 2);
    direct.append(this.stream, 3, `${first}\n${second}\n${third}`, bytes, stamp3, at3);
    // One write for the attempt's lines.
    if (head !== undefined) this.core.writeOut(out + out2 + this.outLine(head, type3!, seq + 2, data3!, at3));
    return true;
  }

  /** The JSON line of an `info` event {@link writeLines} writes, whose id was taken last. */
  private outLine(head: string, type: EventType, seq: number, data: string, at: number): string {
    return eventLine(head, this.lineMembers, type, lastEventId(), seq, data, at, undefined, undefined, undefined);
  }

  /**
   * One line of {@link writeLines}: following the line before it (`"^"`, its time left out when
   * it equals `timeBefore`, that line's time), or whole with the id just taken.
   */
  private lineOf(follows: boolean, time: number, timeBefore: number, type: EventType, seq: number, data: string, gen: number, line: number): string {
    return follows
      ? followingLine(time === timeBefore ? undefined : time, type, data, this.attemptRef(gen, line))
      : `{${ownMembers(lastEventId(), time, 'info', type, seq, undefined, undefined, undefined, data)},${this.attemptRef(gen, line)}}`;
  }

  /**
   * The attempt's members for the event at `line` of the open pack (generation `gen`): written
   * whole on the attempt's first line in that pack; its later lines there refer to it (`"@"`).
   */
  private attemptRef(gen: number, line: number): string {
    if (this.packGeneration === gen) return LINE_REFS[this.packLine] ?? `"@":${this.packLine}`;
    this.packGeneration = gen;
    this.packLine = line;
    return this.attemptJson;
  }

  debug(message: string, attrs?: Attrs): void {
    this.plainLog('debug', message, attrs);
  }

  info(message: string, attrs?: Attrs): void {
    this.plainLog('info', message, attrs);
  }

  warn(message: string, attrs?: Attrs): void {
    this.plainLog('warn', message, attrs);
  }

  error(message: string, attrs?: Attrs): void {
    this.plainLog('error', message, attrs);
  }

  recordUsage(u: AiUsage): void {
    const { core } = this;
    try {
      const issues: Issues = [];
      const ai = cleanAi(u, issues);
      if (issues.length > 0) core.invalid('recordUsage', issues, this.log);
      if (ai) this.usage = mergeUsage(this.usage, ai);
    } catch (err) {
      core.invalid('recordUsage', [`unexpected error: ${(err as Error)?.message}`], core.log, 'internal error');
    }
  }
}

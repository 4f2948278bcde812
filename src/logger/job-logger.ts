import { toErrorInfo, type AiUsage, type Attrs, type ErrorInput, type EventType, type Level } from '../events/index.js';
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
import { createJobAttempt } from './job-context.js';
import type { EmitTarget, LoggerCore } from './logger-core.js';
import { cleanAi, cleanAttrs, cleanFields, cleanMessage, cleanNumber, cleanText, mergeUsage, type Issues } from './sanitize.js';

/**
 * The logger of one job attempt. Every method is fire-and-forget: arguments are checked
 * cheaply (see sanitize.ts), problems are counted and reported, and nothing is thrown.
 * `durationMs` defaults to the time since `jobStarted`, else `jobReceived`, else creation.
 */

type DataBuilder<F> = (fields: Partial<F>, issues: Issues) => object | undefined;

/** Creates the {@link JobLogger} of one attempt; `streamFor` picks the job's stream shard. */
export function createJobLogger(
  core: LoggerCore,
  jobId: string,
  options: JobContextOptions | undefined,
  streamFor: (routingKey: string) => string,
): JobLogger {
  const issues: Issues = [];
  const attempt = createJobAttempt(jobId, options, issues);
  const { job, trace } = attempt;
  const createdAt = core.now();
  let receivedAt: number | undefined;
  let startedAt: number | undefined;
  let usage: AiUsage | undefined;
  let target: EmitTarget | undefined;

  // The pino child is made on first use: with JSON lines off, only a warning ever needs it.
  let log: Logger | undefined;
  const getTarget = (): EmitTarget =>
    (target ??= {
      encoder: core.encoderFor(job, trace),
      stream: streamFor(job.id),
      get log() {
        return (log ??= core.log.child({ job_id: job.id, attempt: job.attempt, trace_id: trace.traceId, span_id: trace.spanId }));
      },
    });
  if (issues.length > 0) core.invalid('withJobContext', issues, getTarget().log);

  const elapsed = (given: unknown, issues: Issues): number => {
    const d = cleanNumber(given, 'nonNeg', issues, 'durationMs');
    return d ?? Math.max(0, core.now() - (startedAt ?? receivedAt ?? createdAt));
  };

  function lifecycle<F extends CommonFields>(call: string, type: EventType, level: Level, fields: F | undefined, build: DataBuilder<F>): void {
    try {
      const issues: Issues = [];
      const f = cleanFields(fields, issues);
      const message = cleanMessage(f.message, issues);
      const attrs = cleanAttrs(f.attrs, issues);
      if (f.ai !== undefined) {
        const ai = cleanAi(f.ai, issues);
        if (ai) usage = mergeUsage(usage, ai);
      }
      const data = build(f, issues);
      const t = getTarget();
      if (data === undefined) return core.invalid(call, issues, t.log, issues.at(-1) ?? 'bad arguments');
      if (issues.length > 0) core.invalid(call, issues, t.log);
      core.emit(t, { type, level, message, attrs, ai: usage, data });
    } catch (err) {
      core.invalid(call, [`unexpected error: ${(err as Error)?.message}`], core.log, 'internal error');
    }
  }

  function plainLog(level: Level, message: string, attrs: Attrs | undefined): void {
    try {
      const issues: Issues = [];
      const m = cleanMessage(message, issues) ?? '';
      const a = cleanAttrs(attrs, issues);
      const t = getTarget();
      if (issues.length > 0) core.invalid(level, issues, t.log);
      core.emit(t, { type: 'log', level, message: m, attrs: a, data: { kind: 'log' } });
    } catch (err) {
      core.invalid(level, [`unexpected error: ${(err as Error)?.message}`], core.log, 'internal error');
    }
  }

  return {
    jobId: job.id,
    attempt: job.attempt,
    traceId: trace.traceId,
    spanId: trace.spanId,
    traceparent: attempt.traceparent,
    jobReceived(fields?: JobReceivedFields) {
      receivedAt ??= core.now();
      lifecycle('jobReceived', 'job.received', 'info', fields, (f, is) => {
        const enqueuedAt = cleanNumber(f.enqueuedAt, 'positiveInt', is, 'enqueuedAt');
        const wait = cleanNumber(f.queueWaitMs, 'nonNeg', is, 'queueWaitMs');
        return {
          inputSize: cleanNumber(f.inputSize, 'nonNegInt', is, 'inputSize'),
          enqueuedAt,
          queueWaitMs: wait ?? (enqueuedAt !== undefined ? Math.max(0, receivedAt! - enqueuedAt) : undefined),
          priority: cleanNumber(f.priority, 'int', is, 'priority'),
        };
      });
    },
    jobStarted(fields?: JobStartedFields) {
      startedAt = core.now();
      lifecycle('jobStarted', 'job.started', 'info', fields, (f, is) => ({
        queueWaitMs: cleanNumber(f.queueWaitMs, 'nonNeg', is, 'queueWaitMs'),
      }));
    },
    jobProgress(progress: number, fields?: JobProgressFields) {
      lifecycle('jobProgress', 'job.progress', 'info', fields, (f, is) => {
        if (typeof progress !== 'number' || Number.isNaN(progress)) {
          is.push(`progress: must be a number from 0 to 100, got ${typeof progress === 'string' ? `"${(progress as string).slice(0, 40)}"` : typeof progress}`);
          return undefined;
        }
        if (progress < 0 || progress > 100) is.push(`progress: ${progress} is outside 0-100, clamped`);
        return {
          progress: Math.min(100, Math.max(0, progress)),
          step: cleanNumber(f.step, 'nonNegInt', is, 'step'),
          totalSteps: cleanNumber(f.totalSteps, 'nonNegInt', is, 'totalSteps'),
          stage: cleanText(f.stage, 128, is, 'stage'),
        };
      });
    },
    jobCompleted(fields?: JobCompletedFields) {
      lifecycle('jobCompleted', 'job.completed', 'info', fields, (f, is) => ({
        durationMs: elapsed(f.durationMs, is),
        outputCount: cleanNumber(f.outputCount, 'nonNegInt', is, 'outputCount'),
        outputSize: cleanNumber(f.outputSize, 'nonNegInt', is, 'outputSize'),
      }));
    },
    jobFailed(error: ErrorInput, fields?: JobFailedFields) {
      lifecycle('jobFailed', 'job.failed', 'error', fields, (f, is) => {
        if (error === undefined || error === null) is.push('error: missing; recorded as an unknown error');
        return { durationMs: elapsed(f.durationMs, is), error: toErrorInfo(error ?? 'unknown error'), willRetry: cleanBool(f.willRetry, is, 'willRetry') };
      });
    },
    jobRetrying(fields?: JobRetryingFields) {
      lifecycle('jobRetrying', 'job.retrying', 'warn', fields, (f, is) => {
        let next = cleanNumber(f.nextAttempt, 'positiveInt', is, 'nextAttempt') ?? job.attempt + 1;
        if (next < 2 || next > 10_000) {
          is.push(`nextAttempt: must be 2-10000, got ${next}; using ${Math.min(10_000, job.attempt + 1)}`);
          next = Math.min(10_000, job.attempt + 1);
        }
        const err = f.error !== undefined ? toErrorInfo(f.error) : undefined;
        return { nextAttempt: Math.max(2, next), delayMs: cleanNumber(f.delayMs, 'nonNeg', is, 'delayMs'), error: err };
      });
    },
    jobCancelled(fields?: JobCancelledFields) {
      lifecycle('jobCancelled', 'job.cancelled', 'warn', fields, (f, is) => ({
        reason: cleanText(f.reason, 1024, is, 'reason'),
        durationMs: elapsed(f.durationMs, is),
      }));
    },
    debug: (message, attrs) => plainLog('debug', message, attrs),
    info: (message, attrs) => plainLog('info', message, attrs),
    warn: (message, attrs) => plainLog('warn', message, attrs),
    error: (message, attrs) => plainLog('error', message, attrs),
    recordUsage(u: AiUsage) {
      try {
        const issues: Issues = [];
        const ai = cleanAi(u, issues);
        if (issues.length > 0) core.invalid('recordUsage', issues, getTarget().log);
        if (ai) usage = mergeUsage(usage, ai);
      } catch (err) {
        core.invalid('recordUsage', [`unexpected error: ${(err as Error)?.message}`], core.log, 'internal error');
      }
    },
  };
}

function cleanBool(value: unknown, issues: Issues, field: string): boolean | undefined {
  if (value === undefined || typeof value === 'boolean') return value;
  issues.push(`${field}: must be a boolean; left out`);
  return undefined;
}

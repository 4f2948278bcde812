import { toErrorInfo, type ErrorInput } from '../events/index.js';
import { cleanNumber, cleanText, type Issues } from './sanitize.js';
import type {
  JobCancelledFields,
  JobCompletedFields,
  JobFailedFields,
  JobProgressFields,
  JobReceivedFields,
  JobRetryingFields,
  JobStartedFields,
} from './types.js';

/**
 * The `data` of each job lifecycle event, from the fields of the call: every value checked
 * against the schema (sanitize.ts), a bad optional one left out and reported in `issues`.
 * `undefined` means the event cannot be sent (a bad required value).
 */

/** What a builder needs of the attempt's logger. */
export interface AttemptClock {
  readonly attempt: number;
  /** When the attempt was first received (Unix ms), once known. */
  readonly receivedAt: number | undefined;
  /** `durationMs` as given, else the time since started (or received, or created). */
  elapsed(given: unknown, issues: Issues): number;
}

/** Builds one event's data. */
export type DataBuilder<F> = (log: AttemptClock, fields: Partial<F>, issues: Issues) => object | undefined;

export const receivedData: DataBuilder<JobReceivedFields> = (l, f, is) => {
  const enqueuedAt = cleanNumber(f.enqueuedAt, 'positiveInt', is, 'enqueuedAt');
  const wait = cleanNumber(f.queueWaitMs, 'nonNeg', is, 'queueWaitMs');
  return {
    inputSize: cleanNumber(f.inputSize, 'nonNegInt', is, 'inputSize'),
    enqueuedAt,
    queueWaitMs: wait ?? (enqueuedAt !== undefined ? Math.max(0, l.receivedAt! - enqueuedAt) : undefined),
    priority: cleanNumber(f.priority, 'int', is, 'priority'),
  };
};

export const startedData: DataBuilder<JobStartedFields> = (_l, f, is) => ({
  queueWaitMs: cleanNumber(f.queueWaitMs, 'nonNeg', is, 'queueWaitMs'),
});

export function progressData(progress: number, f: Partial<JobProgressFields>, is: Issues): object | undefined {
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
}

export const completedData: DataBuilder<JobCompletedFields> = (l, f, is) => ({
  durationMs: l.elapsed(f.durationMs, is),
  outputCount: cleanNumber(f.outputCount, 'nonNegInt', is, 'outputCount'),
  outputSize: cleanNumber(f.outputSize, 'nonNegInt', is, 'outputSize'),
});

export const retryingData: DataBuilder<JobRetryingFields> = (l, f, is) => {
  const attempt = l.attempt;
  let next = cleanNumber(f.nextAttempt, 'positiveInt', is, 'nextAttempt') ?? attempt + 1;
  if (next < 2 || next > 10_000) {
    is.push(`nextAttempt: must be 2-10000, got ${next}; using ${Math.min(10_000, attempt + 1)}`);
    next = Math.min(10_000, attempt + 1);
  }
  const err = f.error !== undefined ? toErrorInfo(f.error) : undefined;
  return { nextAttempt: Math.max(2, next), delayMs: cleanNumber(f.delayMs, 'nonNeg', is, 'delayMs'), error: err };
};

export const cancelledData: DataBuilder<JobCancelledFields> = (l, f, is) => ({
  reason: cleanText(f.reason, 1024, is, 'reason'),
  durationMs: l.elapsed(f.durationMs, is),
});

function cleanBool(value: unknown, issues: Issues, field: string): boolean | undefined {
  if (value === undefined || typeof value === 'boolean') return value;
  issues.push(`${field}: must be a boolean; left out`);
  return undefined;
}

/** The data of `jobFailed(error, fields)`. */
export function failedData(error: ErrorInput, l: AttemptClock, f: Partial<JobFailedFields>, is: Issues): object {
  if (error === undefined || error === null) is.push('error: missing; recorded as an unknown error');
  return { durationMs: l.elapsed(f.durationMs, is), error: toErrorInfo(error ?? 'unknown error'), willRetry: cleanBool(f.willRetry, is, 'willRetry') };
}

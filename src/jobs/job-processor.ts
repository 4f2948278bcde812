import { UnrecoverableError, type Job } from 'bullmq';
import type { Connector, ConnectorResult } from '../../connectors/connector.js';
import { isNonRetryable } from '../../connectors/connector-error.js';
import type { AiUsage, Attrs, PutBackKind } from '../events/index.js';
import type { JobContextOptions, JobLogger } from '../logger/types.js';
import { backoffDelayMs, type BackoffOption } from './backoff-delay.js';
import { AttemptRun, type AttemptRunShared } from './connector-context.js';
import { JobCancelledError, JobHandedBackError } from './job-abort.js';
import type { LazyAbort } from './lazy-abort.js';
import type { Pricing } from './pricing.js';

/**
 * Runs one BullMQ job through a connector and reports its whole attempt: received, started,
 * progress, then completed, failed (+ retrying) or cancelled, with usage and cost. Used as
 * the Worker's processor; nothing here touches BullMQ's state, which stays BullMQ's job.
 *
 * The received, started and completed events are staged on the attempt (connector-context.ts)
 * and handed to the logger in batches, by a timer: {@link STAGE_MAX_MS} after the first event
 * staged, and at `flush()` (or at once when {@link STAGE_MAX_ATTEMPTS} ended attempts wait, a
 * bound on what is held, not a batch size). Each event keeps the time it happened. A job of a
 * few milliseconds thus has its three events encoded together, with those of dozens of other
 * jobs, in one warm loop; between the worker's own work, the same code costs several times more
 * (cold caches), and that was most of the runtime's overhead on short jobs. The hand-over runs
 * from its timer, not inside the job whose end fills a batch: in seven palindromic A/B runs of
 * the worker-overhead benchmark's jobs (5–10 rounds each), that gave 1.3–6.6 % more no-op jobs
 * per second than handing over inside the 64th ended attempt (BENCHMARKS.md, 6).
 *
 * An attempt that started less than STAGE_MAX_MS / 2 before a hand-over and has not ended stays
 * staged for the next one, once (at most STAGE_MAX_MS / 2 later): a short job then has its three
 * events written at once, its job and trace once (one reservation of the open pack instead of
 * two), while a long job's received and started still go within STAGE_MAX_MS of its start.
 */

/** Most ended attempts waiting with staged events: at this many they are handed over at once. */
export const STAGE_MAX_ATTEMPTS = 1024;
/** Longest a staged event waits before it is handed to the logger, in ms. */
export const STAGE_MAX_MS = 5;

/** What the processor needs of a ConnectorLogger. */
export interface JobLoggerFactory {
  withJobContext(jobId: string, options?: JobContextOptions): JobLogger;
}

/** Options of {@link createJobProcessor}. */
export interface JobProcessorOptions {
  logger: JobLoggerFactory;
  connector: Connector;
  queue: string;
  pricing?: Pricing;
  /** Mirror `ctx.progress` to BullMQ's `job.updateProgress`. Default true. */
  mirrorProgress?: boolean;
  /**
   * Asked at start whether a cancel was requested before the job ran; returns the reason. The
   * connector is then not run: the attempt ends as cancelled at once.
   */
  pendingCancel?: (jobId: string) => string | undefined;
  /**
   * For a job whose backoff is a custom strategy: the delay BullMQ will wait after this failure,
   * -1 when it will not retry (BullMQ's rule), rejecting when the strategy throws; undefined when
   * the built-in computation applies. See `memoizeBackoffStrategy` (backoff-delay.ts), which
   * makes sure the strategy is asked once. Without it a custom strategy's -1 is not known here.
   */
  backoffDelay?: (job: Job, attempt: number, err: unknown) => Promise<number> | undefined;
  /** Called when an attempt ends as cancelled (a cancel request applied: the worker uses it up). */
  onCancelled?: (jobId: string) => void;
  /** Background failures (progress mirroring); never thrown. */
  onError?: (err: unknown) => void;
}

/** A job running now; aborting it (the attempt's cancellation) ends it as cancelled or handed back. */
export interface ActiveJob extends LazyAbort {
  readonly jobId: string;
  readonly attempt: number;
  /** Resolves when the attempt has been reported and left the processor. */
  done(): Promise<void>;
}

/** The processor and what it is running. */
export interface JobProcessor {
  /**
   * BullMQ processor. It takes only the job: with a third parameter BullMQ makes an
   * AbortController per job; cancellation comes through {@link JobProcessor.cancel} instead.
   */
  process(job: Job): Promise<unknown>;
  /** Jobs running now, by id (bounded by the worker's concurrency). */
  readonly active: ReadonlyMap<string, ActiveJob>;
  /** Aborts one running job (either of its ids, see {@link bullJobId}) as cancelled; false when it does not run here. */
  cancel(jobId: string, reason: string): boolean;
  /**
   * Aborts every running job as handed back (worker shutdown past its deadline); resolves when
   * they left the processor or after `waitMs`.
   */
  handBackAll(deadlineMs: number, waitMs?: number): Promise<void>;
  /** Hands every staged event to the logger now (before the logger is flushed). */
  flush(): void;
}

/**
 * Queue wait of a first attempt: processedOn − timestamp − delay, from BullMQ's timestamps. The
 * delay is the job's `delay` option: BullMQ (5.x) sets the job's `delay` field to 0 when it moves
 * the job from delayed to wait, so by the time it runs only `opts.delay` still has it. (A delay
 * changed with `job.changeDelay()` is not seen; a delayed job promoted early counts as no wait.)
 */
export function queueWaitMs(job: Pick<Job, 'timestamp' | 'processedOn' | 'delay'> & { opts?: { delay?: number | undefined } }, now = Date.now()): number {
  const delay = Math.max(job.delay || 0, job.opts?.delay || 0);
  return Math.max(0, (job.processedOn ?? now) - job.timestamp - delay);
}

/**
 * The attempt number of a run of the job: BullMQ's count of its starts (`attemptsStarted`, this
 * run included), so a run after a stall (BullMQ gives the job to another worker, attemptsMade
 * unchanged) or after a rate limit is an attempt of its own, with its own received, start and
 * duration, not a second start mixed into the first. Never below attemptsMade + 1 (a job from
 * before BullMQ counted starts).
 */
export function attemptNumber(job: Pick<Job, 'attemptsMade' | 'attemptsStarted'>): number {
  return Math.max(job.attemptsStarted || 0, job.attemptsMade + 1);
}

/** Whether BullMQ made the id: a per-queue counter, or a repeat's `repeat:<key hash>:<millis>`. */
const bullMadeId = (id: string): boolean => /^\d+$/.test(id) || id.startsWith('repeat:');

/**
 * The job id telemetry uses. BullMQ's automatic ids are per-queue counters ("21" exists in every
 * queue) and its repeat ids hash the job's name and schedule, not its queue, so such an id is
 * qualified with its queue (`images:21`) to stay unique in the status store; ids set by the
 * producer (createJobProducer sets `<queue>-<uuid>`) pass as they are.
 */
export function telemetryJobId(bullJobId: string, queue: string): string {
  return bullMadeId(bullJobId) ? `${queue}:${bullJobId}` : bullJobId;
}

/**
 * BullMQ's id of a job of `queue` given by either of its ids: the telemetry id (`images:21`,
 * what the dashboard, the CLI and the heartbeats show) or BullMQ's own (`21`).
 */
export function bullJobId(jobId: string, queue: string): string {
  if (!jobId.startsWith(`${queue}:`)) return jobId;
  const own = jobId.slice(queue.length + 1);
  return bullMadeId(own) ? own : jobId;
}

/** Creates the processor. */
export function createJobProcessor(options: JobProcessorOptions): JobProcessor {
  const { connector, queue } = options;
  const active = new Map<string, AttemptRun>();
  const onError = options.onError ?? (() => undefined);
  const mirrorProgress = options.mirrorProgress ?? true;

  function price(run: AttemptRun): AiUsage | undefined {
    const ai = run.usageTotal();
    if (!ai) return undefined;
    const cost = options.pricing?.price(ai, connector.serviceType);
    return cost === undefined ? ai : { ...ai, costUsd: cost };
  }

  // The staging queue (see the top of this file): two arrays swapped at each hand-over.
  let staged: AttemptRun[] = [];
  let spare: AttemptRun[] = [];
  let stageTimer: NodeJS.Timeout | undefined;
  /** Staged attempts that have ended (the others wait for their end, see handOver). */
  let ended = 0;

  function stage(run: AttemptRun, end: boolean): void {
    if (end) ended++;
    if (!run.queued) {
      run.queued = true;
      staged.push(run);
    }
    if (ended >= STAGE_MAX_ATTEMPTS) handOver(false);
    else if (!stageTimer) setStageTimer(STAGE_MAX_MS);
  }

  function setStageTimer(ms: number): void {
    stageTimer = setTimeout(() => handOver(false), ms);
    stageTimer.unref();
  }

  /** Hands the staged events over; with `all` false, a young attempt that has not ended stays. */
  function handOver(all: boolean): void {
    clearTimeout(stageTimer);
    stageTimer = undefined;
    const list = staged;
    staged = spare;
    spare = [];
    ended = 0;
    // An attempt that started less than half the wait ago, and has not ended, stays staged once:
    // a short job's three events then go together (see connector-context.ts), and a long one's
    // start still goes within STAGE_MAX_MS (the timer below comes at most half of it later).
    // Once, not while it is young: a wall clock stepped back would keep it young for that long.
    const young = Date.now() - STAGE_MAX_MS / 2;
    for (const run of list) {
      if (!all && !run.held && run.pendingStartAt > young) {
        run.held = true;
        staged.push(run);
        continue;
      }
      run.queued = false;
      try {
        run.emitStaged();
      } catch (err) {
        // A logger that throws (ours never does) costs this attempt its staged events, not the others'.
        onError(err);
      }
    }
    list.length = 0;
    spare = list;
    if (staged.length > 0) setStageTimer(STAGE_MAX_MS / 2);
  }

  const shared: AttemptRunShared = {
    queue,
    logger: (jobId, context) => options.logger.withJobContext(telemetryJobId(jobId, queue), context),
    mirrorProgress,
    onError,
  };

  function begin(job: Job, jobId: string, attempt: number): AttemptRun {
    const run = new AttemptRun(job, jobId, attempt, shared);
    active.set(jobId, run);
    const pending = options.pendingCancel?.(jobId);
    if (pending !== undefined) run.abort(cancelError(pending));
    return run;
  }

  async function process(job: Job): Promise<unknown> {
    const jobId = job.id ?? 'unknown';
    const attempt = attemptNumber(job);
    const run = begin(job, jobId, attempt);
    const at = Date.now();
    run.stageStart(at, job.timestamp, attempt === 1 ? queueWaitMs(job, at) : undefined, job.opts.priority || undefined);
    stage(run, false);
    const started = performance.now();
    try {
      // A cancel requested before the start (begin() aborted the run): the connector is not run. An
      // already-aborted signal never fires 'abort', so a connector would not even notice it.
      if (run.aborted) throw run.reason;
      const value: unknown = await connector.run({ id: jobId, name: job.name, data: job.data as unknown, attempt, queue }, run);
      // A connector that ignored its signal still ends as cancelled / handed back.
      if (run.aborted) throw run.reason;
      // Milliseconds to the microsecond: all a duration needs, and shorter to write than a raw difference.
      const durationMs = Math.round((performance.now() - started) * 1000) / 1000;
      const result = connectorResult(value);
      run.stageEnd(Date.now(), durationMs, price(run), countField(result, 'outputCount'), countField(result, 'outputSize'));
      stage(run, true);
      // BullMQ stores what is returned: a ConnectorResult's output, anything else as it is.
      return result ? (result.output ?? null) : (value ?? null);
    } catch (err) {
      throw await failed(job, run, err, performance.now() - started, price(run));
    } finally {
      active.delete(jobId);
      run.finish();
    }
  }

  async function failed(job: Job, entry: AttemptRun, err: unknown, durationMs: number, ai: AiUsage | undefined): Promise<unknown> {
    const reason: unknown = entry.reason;
    // entry.logger hands over what is staged first: the failure comes after them.
    if (reason instanceof JobHandedBackError) {
      putBack(entry, ai, 'warn', 'job handed back to the queue at shutdown', { kind: 'handed_back', deadlineMs: reason.deadlineMs });
      return reason;
    }
    if (reason instanceof JobCancelledError) {
      entry.logger.jobCancelled({ reason: reason.reason.slice(0, 1024), durationMs, ...(ai ? { ai } : {}) });
      options.onCancelled?.(entry.jobId);
      return new UnrecoverableError(reason.message);
    }
    // Not a failure: BullMQ puts the job back (rate-limited, delayed, waiting) and runs it again.
    const parked = parkedBy(err);
    if (parked !== undefined) {
      putBack(entry, ai, 'info', parked.message, { kind: parked.kind, durationMs });
      return err;
    }
    const final = err instanceof UnrecoverableError || isNonRetryable(err);
    // BullMQ's count of this failure (attemptsMade after it): what its retry rules and the backoff
    // go by. The attempt number can be higher (a run that stalled or was rate-limited counts as
    // started, not as made).
    const made = job.attemptsMade + 1;
    // As BullMQ's shouldRetryJob: attempts left and not unrecoverable, then the backoff has its say.
    let willRetry: boolean | undefined = !final && made < (job.opts.attempts ?? 1);
    let delayMs: number | undefined;
    if (willRetry) {
      const custom = options.backoffDelay?.(job, made, err);
      if (custom === undefined) delayMs = backoffDelayMs(job.opts.backoff as BackoffOption, made);
      else {
        // BullMQ: -1 is "do not retry"; a falsy delay retries at once. A strategy that throws
        // keeps BullMQ from moving the job at all (its lock expires, the stalled check takes
        // over): whether it runs again is not known here.
        const answer = await custom.then(Number, () => undefined);
        if (answer === undefined) willRetry = undefined;
        else if (answer === -1) willRetry = false;
        else delayMs = answer > 0 ? answer : 0;
      }
    }
    const jl = entry.logger;
    jl.jobFailed(err as Error, { durationMs, ...(willRetry !== undefined ? { willRetry } : {}), ...(ai ? { ai } : {}) });
    if (willRetry) jl.jobRetrying({ nextAttempt: entry.attempt + 1, error: err as Error, ...(delayMs !== undefined ? { delayMs } : {}) });
    // A cancel heard while this failure was being decided: with a retry coming it ends that
    // retry at its start; with none, this was the job's last attempt and the request is done.
    else if (willRetry === false && entry.reason instanceof JobCancelledError) options.onCancelled?.(entry.jobId);
    if (final && !(err instanceof UnrecoverableError)) return new UnrecoverableError((err as Error).message);
    return err;
  }

  /**
   * Ends a run that will run again without having failed (PUT_BACK_KINDS): a `log` event of its
   * kind, with the run's usage (the status store counts it, and reads the job as retrying, not
   * running on this worker, until its next attempt).
   */
  function putBack(entry: AttemptRun, ai: AiUsage | undefined, level: 'info' | 'warn', message: string, attrs: { kind: PutBackKind } & Attrs): void {
    const jl = entry.logger;
    if (ai) jl.recordUsage(ai);
    jl[level](message, attrs);
  }

  return {
    process: (job) => process(job),
    active,
    cancel(jobId, reason) {
      const entry = active.get(bullJobId(jobId, queue));
      if (!entry) return false;
      entry.abort(cancelError(reason));
      return true;
    },
    async handBackAll(deadlineMs, waitMs = 1000) {
      const entries = [...active.values()];
      for (const entry of entries) entry.abort(new JobHandedBackError(deadlineMs));
      let timer: NodeJS.Timeout | undefined;
      const wait = new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)));
      await Promise.race([Promise.all(entries.map((e) => e.done())), wait]);
      clearTimeout(timer);
    },
    flush: () => handOver(true),
  };
}

/**
 * The errors with which a processor tells BullMQ to put its job back instead of failing it
 * (worker.js handleFailed): `Worker.RateLimitError()` after `worker.rateLimit(ms)`, and those
 * thrown after `job.moveToDelayed`, `job.moveToWait` or `job.moveToWaitingChildren`. Matched as
 * BullMQ matches them (by message, by name). The attempt is then reported as a `log` event of
 * its kind, not as failed.
 */
function parkedBy(err: unknown): { kind: PutBackKind; message: string } | undefined {
  if (!(err instanceof Error)) return undefined;
  if (err.message === 'bullmq:rateLimitExceeded') return { kind: 'rate_limited', message: 'job rate-limited: back to the queue, to run again' };
  if (err.name === 'DelayedError') return { kind: 'delayed', message: 'job moved to delayed, to run again' };
  if (err.name === 'WaitingError') return { kind: 'moved_to_wait', message: 'job moved back to wait, to run again' };
  if (err.name === 'WaitingChildrenError') return { kind: 'waiting_children', message: 'job waits for its children, to run again' };
  return undefined;
}

function cancelError(reason: unknown): JobCancelledError {
  const text = typeof reason === 'string' ? reason : reason instanceof Error ? reason.message : 'cancel requested';
  return new JobCancelledError(text || 'cancel requested');
}

/**
 * What a connector resolved with, as a {@link ConnectorResult} when it is one (an object with
 * `output`, `outputCount` or `outputSize`); undefined for anything else, which is the job's
 * return value as it is (connector.ts).
 */
function connectorResult(value: unknown): ConnectorResult | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  return 'output' in value || 'outputCount' in value || 'outputSize' in value ? (value as ConnectorResult) : undefined;
}

/** `result[key]` when it is a non-negative integer (a connector's output count or size). */
function countField(result: ConnectorResult | undefined, key: 'outputCount' | 'outputSize'): number | undefined {
  if (result === undefined) return undefined;
  const v = result[key];
  return Number.isInteger(v) && v! >= 0 ? v : undefined;
}

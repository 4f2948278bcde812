import type { AiUsage, ErrorInfo, EventType, Level } from '../events/index.js';

/**
 * The shapes of the job-status store's read side: what the API, the dashboard and the CLI
 * show. The write side lives in src/sinks/status.
 */

/** Lifecycle state of a job (of its latest attempt). */
export const JOB_STATES = ['received', 'running', 'retrying', 'completed', 'failed', 'cancelled'] as const;
export type JobState = (typeof JOB_STATES)[number];

/** True for states that end a job. */
export function isFinalState(state: JobState): boolean {
  return state === 'completed' || state === 'failed' || state === 'cancelled';
}

/** The current state of one job, as the status store holds it. */
export interface JobRecord {
  id: string;
  state: JobState;
  /** The attempt this record describes (the latest seen). */
  attempt: number;
  queue?: string;
  name?: string;
  machineId: string;
  workerId: string;
  serviceType: string;
  connectorId: string;
  /** The process instance of the latest attempt's worker, when known. */
  instance?: string;
  /** Unix ms: when the job was enqueued, when this attempt was received, started, finished. */
  enqueuedAt?: number;
  receivedAt?: number;
  startedAt?: number;
  finishedAt?: number;
  /** Unix ms of the last event applied. */
  updatedAt: number;
  durationMs?: number;
  queueWaitMs?: number;
  /** Percent, 0–100. */
  progress?: number;
  stage?: string;
  ai?: AiUsage;
  lastError?: ErrorInfo;
  /** Whether a failure is final (retries exhausted) or a retry follows. */
  willRetry?: boolean;
  /** While `retrying`: the attempt that comes next. */
  nextAttempt?: number;
  traceId?: string;
  spanId?: string;
  lastEventId: string;
  lastEventType: EventType;
  /** Events applied to this job (all attempts). */
  eventCount: number;
}

/** One line of a job's timeline. */
export interface TimelineEntry {
  eventId: string;
  type: EventType;
  time: number;
  attempt: number;
  level: Level;
  message?: string;
  progress?: number;
  stage?: string;
  durationMs?: number;
  errorType?: string;
  errorMessage?: string;
}

/** Liveness of a worker, judged from its heartbeats. */
export type WorkerLiveness = 'busy' | 'idle' | 'dead' | 'stopped';

/** One job worker as the registry knows it. */
export interface WorkerRecord {
  machineId: string;
  workerId: string;
  serviceType: string;
  connectorId: string;
  instance?: string;
  startedAt?: number;
  stoppedAt?: number;
  lastHeartbeatAt?: number;
  heartbeatIntervalMs?: number;
  /** Unix ms of the worker's latest event of any kind (job events included). */
  lastSeenAt?: number;
  /**
   * Jobs whose latest attempt this worker runs (received or running), sorted: from its job events
   * and heartbeats. A job leaves it once another worker takes it or it ends, a dead worker's too.
   */
  currentJobs: string[];
  liveness: WorkerLiveness;
  version?: string;
  pid?: number;
  concurrency?: number;
  lastEventId?: string;
  lastEventType?: EventType;
}

/** One change in the live feed: what the SSE API streams. */
export interface FeedEntry {
  /** The feed stream id; resume after it. */
  id: string;
  kind: 'job' | 'worker';
  eventId: string;
  eventType: EventType;
  time: number;
  jobId?: string;
  state?: JobState;
  attempt?: number;
  progress?: number;
  /**
   * On a `job.failed` entry: whether a retry follows that failed attempt, as the event said
   * (`state` is `failed` for both kinds of failure). Absent when the event did not say, when it
   * belongs to an earlier attempt than `attempt` (or to a run a new one of the same attempt number
   * replaced), and on entries written before the feed carried it.
   */
  willRetry?: boolean;
  machineId: string;
  workerId: string;
  serviceType: string;
  connectorId: string;
}

/** Filters for listing jobs. All optional; combined with AND. */
export interface JobFilter {
  state?: JobState;
  serviceType?: string;
  machineId?: string;
  workerId?: string;
  connectorId?: string;
  model?: string;
  /** Unix ms bounds on `updatedAt`. */
  from?: number;
  to?: number;
  /** Job id prefix. */
  idPrefix?: string;
}

/** A page of jobs, newest update first. */
export interface JobPage {
  jobs: JobRecord[];
  /** Pass back to get the next page; absent on the last page. */
  nextCursor?: string;
}

/** Options for reading the live feed. */
export interface FeedReadOptions {
  /** Return entries after this feed id; `$` or undefined = only new ones; `0` = from the start. */
  afterId?: string;
  /** Most entries per call. Default 100. */
  count?: number;
  /** Block up to this long (ms) waiting for new entries; 0 = do not block. */
  blockMs?: number;
}

/**
 * The typed read API of the job-status store (implemented in src/status/status-reader.ts,
 * created with `createStatusReader({ redis, prefix })`).
 */
export interface StatusReader {
  getJob(jobId: string): Promise<JobRecord | undefined>;
  listJobs(filter?: JobFilter, page?: { limit?: number; cursor?: string }): Promise<JobPage>;
  /** Oldest first; capped (the store keeps the last N events of a job). */
  getTimeline(jobId: string): Promise<TimelineEntry[]>;
  listWorkers(): Promise<WorkerRecord[]>;
  /** Reads feed entries after `afterId`, blocking up to `blockMs` for new ones. */
  readFeed(options?: FeedReadOptions): Promise<FeedEntry[]>;
  /** Counts of jobs per state (from the state indexes). */
  countByState(): Promise<Record<JobState, number>>;
  /** The oldest `updatedAt` of any job the store holds (undefined when it holds none): where its data begins. */
  oldestUpdatedAt(): Promise<number | undefined>;
}

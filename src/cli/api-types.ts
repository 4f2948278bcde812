import type { JobRecord, JobState, TimelineEntry, WorkerLiveness } from '../status/types.js';

/** The shapes of the API's answers, as the CLI reads them (see the API's /openapi.json). */

/** A job as the API lists it: the record plus stuck/orphaned/waiting flags. */
export type JobView = JobRecord & { flags?: { stuck?: boolean; orphaned?: boolean; waitingTooLong?: boolean } };

/** `GET /api/jobs`. */
export interface JobsResponse {
  jobs: JobView[];
  nextCursor?: string;
}

/** `GET /api/jobs/:id`. */
export interface JobDetailResponse {
  job: JobView;
  timeline: TimelineEntry[];
  links: { trace?: string; sentry?: string };
}

/** One worker of `GET /api/workers`. */
export interface WorkerView {
  workerId: string;
  liveness: WorkerLiveness;
  lastHeartbeatAt?: number;
  currentJobs: string[];
  services: { serviceType: string; connectorId: string; instance?: string }[];
}

/** `GET /api/workers`. */
export interface WorkersResponse {
  machines: { machineId: string; workers: WorkerView[] }[];
  counts: Record<WorkerLiveness, number>;
}

/** One group of `GET /api/errors`. */
export interface ErrorGroup {
  fingerprint: string;
  serviceType: string;
  errorType: string;
  category: string;
  message: string;
  count: number;
  firstSeen: number;
  lastSeen: number;
  exampleJobId: string;
}

/** `GET /api/errors`. */
export interface ErrorsResponse {
  groups: ErrorGroup[];
}

/** `GET /api/stats`. */
export interface StatsResponse {
  windowMs: number;
  buckets: { t: number; completed: number; failed: number; p50DurationMs?: number; costUsd: number }[];
  throughputPerMin: number;
  durationMs: { p50?: number; p95?: number };
  errorRate: number;
  queueWaitMs: { p50?: number; p95?: number };
  costUsd: { total: number; byModel: Record<string, number>; byService: Record<string, number> };
  jobsByState: Partial<Record<JobState, number>>;
}

/** One entry of `GET /api/dlq`. */
export interface DlqEntry {
  id: string;
  reason: string;
  sink: string;
  deliveries: number;
  originalStream: string;
  originalId: string;
  eventId?: string;
  eventType?: string;
  time: number;
}

/** `GET /api/dlq`. */
export interface DlqResponse {
  entries: DlqEntry[];
  total: number;
  nextCursor?: string;
}

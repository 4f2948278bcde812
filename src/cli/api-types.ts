import type { DlqEntry } from '../api/dlq/dlq-store.js';
import type { ErrorGroup } from '../insights/error-groups.js';
import type { JobStats } from '../insights/job-stats.js';
import type { JobRecord, TimelineEntry, WorkerLiveness } from '../status/types.js';

// The server's own types, so the CLI cannot drift from what the API sends.
export type { DlqEntry, ErrorGroup };

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

/** `GET /api/errors`. */
export interface ErrorsResponse {
  groups: ErrorGroup[];
}

/** `GET /api/stats`: the API's own shape. */
export type StatsResponse = JobStats;

/** `GET /api/dlq`. */
export interface DlqResponse {
  entries: DlqEntry[];
  total: number;
  nextCursor?: string;
}

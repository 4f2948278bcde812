import type { JobFilter, JobRecord, StatusReader } from '../status/types.js';

/** Options for scanning the jobs updated within a time window. */
export interface JobWindowOptions {
  /** Extra filters (state, service, …), combined with the window. */
  filter?: JobFilter;
  /** Window start and end, Unix ms (on `updatedAt`). */
  fromMs: number;
  toMs: number;
  /** Most jobs read. Default 10000. */
  maxJobs?: number;
  /** Page size per read. Default 500. */
  pageSize?: number;
}

/** The jobs found, and whether the scan stopped at `maxJobs`. */
export interface JobWindow {
  jobs: JobRecord[];
  /** True when more jobs matched than were read: figures describe the newest `maxJobs`. */
  capped: boolean;
}

/**
 * Reads the jobs updated within a window, newest first, through the status store's
 * `updatedAt` index, stopping at `maxJobs` so an insight never scans the whole store.
 */
export async function scanJobWindow(reader: StatusReader, options: JobWindowOptions): Promise<JobWindow> {
  const maxJobs = options.maxJobs ?? 10_000;
  const pageSize = Math.min(options.pageSize ?? 500, maxJobs);
  const filter: JobFilter = { ...options.filter, from: options.fromMs, to: options.toMs };
  const jobs: JobRecord[] = [];
  let cursor: string | undefined;
  // A page may come back short (the store bounds each scan), so pages are bounded too.
  const maxPages = Math.ceil(maxJobs / pageSize) * 4;
  for (let pages = 0; pages < maxPages; pages++) {
    const page = await reader.listJobs(filter, cursor === undefined ? { limit: pageSize } : { limit: pageSize, cursor });
    for (const job of page.jobs) {
      if (jobs.length >= maxJobs) return { jobs, capped: true };
      jobs.push(job);
    }
    if (page.nextCursor === undefined) return { jobs, capped: false };
    if (jobs.length >= maxJobs) return { jobs, capped: true };
    cursor = page.nextCursor;
  }
  return { jobs, capped: true };
}

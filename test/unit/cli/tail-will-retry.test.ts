import { describe, expect, it } from 'vitest';
import { ApiError, type ApiClient } from '../../../src/cli/api-client.js';
import { failedAttemptRetries, tailLine } from '../../../src/cli/commands/tail.js';
import type { FeedEntry, JobRecord } from '../../../src/status/types.js';

const failed: FeedEntry = {
  id: '1-0',
  kind: 'job',
  eventId: 'e1',
  eventType: 'job.failed',
  time: Date.UTC(2026, 0, 2, 3, 4, 5, 678),
  jobId: 'job-7',
  state: 'failed',
  attempt: 1,
  machineId: 'm1',
  workerId: 'w1',
  serviceType: 'comfyui',
  connectorId: 'comfyui-local',
};

/** A client whose GET /api/jobs/:id answers with `job`, or fails with `error`. */
function clientWith(job: Partial<JobRecord> | ApiError): ApiClient & { paths: string[] } {
  const paths: string[] = [];
  return {
    paths,
    baseUrl: 'http://api',
    url: (p) => `http://api${p}`,
    post: () => Promise.reject(new Error('not used')),
    async get<T>(path: string): Promise<T> {
      paths.push(path);
      if (job instanceof ApiError) throw job;
      return { job, timeline: [], links: {} } as T;
    },
  };
}

describe('tail: a failed attempt that a retry follows', () => {
  it('shows "failed (will retry)" when a retry follows, and plain "failed" when it is final or unknown', () => {
    expect(tailLine(failed, true)).toBe('03:04:05.678  job.failed       job-7  failed (will retry)  m1/w1/comfyui');
    expect(tailLine({ ...failed, attempt: 2 }, true)).toContain('job-7  failed (attempt 2, will retry)  m1/w1/comfyui');
    expect(tailLine(failed, false)).toBe('03:04:05.678  job.failed       job-7  failed  m1/w1/comfyui');
    expect(tailLine(failed)).toBe('03:04:05.678  job.failed       job-7  failed  m1/w1/comfyui');
    expect(tailLine({ ...failed, attempt: 3 }, false)).toContain('job-7  failed (attempt 3)  m1/w1/comfyui');
  });

  it('reads whether a retry follows from the job record of that attempt', async () => {
    const same = clientWith({ attempt: 1, state: 'failed', willRetry: true });
    expect(await failedAttemptRetries(same, failed)).toBe(true);
    expect(same.paths).toEqual(['/api/jobs/job-7']);
    expect(await failedAttemptRetries(clientWith({ attempt: 1, state: 'failed', willRetry: false }), failed)).toBe(false);
    expect(await failedAttemptRetries(clientWith({ attempt: 1, state: 'retrying', willRetry: true }), failed)).toBe(true);
    // The record moved on to a later attempt (its willRetry is that attempt's): this one was retried.
    expect(await failedAttemptRetries(clientWith({ attempt: 2, state: 'running' }), failed)).toBe(true);
    expect(await failedAttemptRetries(clientWith({ attempt: 1, state: 'failed' }), failed)).toBeUndefined();
    expect(await failedAttemptRetries(clientWith(new ApiError('expired', 404)), failed)).toBeUndefined();
    expect(await failedAttemptRetries(clientWith({ attempt: 1, state: 'failed', willRetry: true }), { ...failed, attempt: 2 })).toBeUndefined();
  });

  it('takes the answer from the feed entry when it carries willRetry, with no request', async () => {
    const client = clientWith(new ApiError('must not be asked', 500));
    expect(await failedAttemptRetries(client, { ...failed, willRetry: true })).toBe(true);
    expect(await failedAttemptRetries(client, { ...failed, willRetry: false })).toBe(false);
    expect(client.paths).toEqual([]);
  });
});

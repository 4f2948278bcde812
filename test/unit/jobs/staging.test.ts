import type { Job } from 'bullmq';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Connector } from '../../../connectors/connector.js';
import { createJobProcessor, STAGE_MAX_ATTEMPTS, STAGE_MAX_MS } from '../../../src/jobs/job-processor.js';
import { createJobLogger } from '../../../src/logger/job-logger.js';
import { captureCore } from '../logger/capture.js';

/**
 * The runtime stages received/started/completed and hands them to the logger in batches: what a
 * user must still see is every event, in order per attempt, each with the time it happened.
 */

function setup(connector: Connector) {
  const c = captureCore({ stdout: false });
  const logger = { withJobContext: (id: string, o?: object) => createJobLogger(c.core, id, o, () => '{p}:events') };
  const processor = createJobProcessor({ logger, connector, queue: 'images' });
  return { c, processor };
}

function job(id: string, timestamp: number): Job {
  return { id, name: 'render', data: {}, attemptsMade: 0, opts: {}, timestamp, processedOn: timestamp + 40, delay: 0, updateProgress: () => Promise.resolve() } as unknown as Job;
}

const types = (c: ReturnType<typeof captureCore>, jobId: string) => c.events.filter((e) => e.job?.id === jobId).map((e) => e.type);

afterEach(() => {
  vi.useRealTimers();
});

describe('staged lifecycle events', () => {
  it('hand over received, started and completed together, each with the time it happened', async () => {
    vi.useFakeTimers({ now: 1_800_000_000_000, toFake: ['Date', 'setTimeout', 'clearTimeout'] });
    const connector: Connector = { serviceType: 'simulated', name: 't', run: async () => (vi.setSystemTime(Date.now() + 250), { outputCount: 2 }) };
    const { c, processor } = setup(connector);
    await processor.process(job('job-1', 1_800_000_000_000 - 40));
    expect(c.events).toHaveLength(0); // staged, not yet handed over
    vi.advanceTimersByTime(STAGE_MAX_MS);
    expect(types(c, 'job-1')).toEqual(['job.received', 'job.started', 'job.completed']);
    const [received, started, completed] = c.events;
    expect(received).toMatchObject({ time: 1_800_000_000_000, data: { enqueuedAt: 1_799_999_999_960, queueWaitMs: 40 } });
    expect(started).toMatchObject({ time: 1_800_000_000_000, data: { queueWaitMs: 40 } });
    expect(completed).toMatchObject({ time: 1_800_000_000_250, data: { outputCount: 2 } });
    expect(completed!.seq).toBeGreaterThan(started!.seq);
  });

  it(`hand over at once when ${STAGE_MAX_ATTEMPTS} ended attempts wait, and at flush()`, async () => {
    const { c, processor } = setup({ serviceType: 'simulated', name: 't', run: () => Promise.resolve({}) });
    for (let i = 0; i < STAGE_MAX_ATTEMPTS; i++) await processor.process(job(`j${i}`, Date.now()));
    expect(c.events.length).toBeGreaterThanOrEqual(2 * STAGE_MAX_ATTEMPTS);
    await processor.process(job('last', Date.now()));
    expect(types(c, 'last')).toEqual([]);
    processor.flush();
    expect(types(c, 'last')).toEqual(['job.received', 'job.started', 'job.completed']);
    expect(c.events.filter((e) => e.type === 'job.completed')).toHaveLength(STAGE_MAX_ATTEMPTS + 1);
  });

  /** A processor whose job 'long' runs until `finish()` (or `fail()`); every other job ends at once. */
  function withLongJob() {
    const control = { finish: (): void => undefined, fail: (_err: Error): void => undefined };
    const connector: Connector = {
      serviceType: 'simulated',
      name: 't',
      run: (j) =>
        j.id === 'long'
          ? new Promise((resolve, reject) => {
              control.finish = () => resolve({});
              control.fail = reject;
            })
          : Promise.resolve({}),
    };
    return { ...setup(connector), control };
  }

  /** Runs STAGE_MAX_ATTEMPTS short jobs: the last one's end triggers a hand-over. */
  async function shortJobs(processor: ReturnType<typeof setup>['processor'], tag: string): Promise<void> {
    for (let i = 0; i < STAGE_MAX_ATTEMPTS; i++) await processor.process(job(`${tag}-${i}`, Date.now()));
  }

  it("hand over a running job's received and started within STAGE_MAX_MS of its start, before it ends", async () => {
    vi.useFakeTimers({ now: 1_800_000_000_000, toFake: ['Date', 'setTimeout', 'clearTimeout'] });
    const { c, processor, control } = withLongJob();
    const long = processor.process(job('long', Date.now() - 40));
    // A hand-over 1 ms after 'long' started (under STAGE_MAX_MS / 2, before its timer): the short
    // jobs go, 'long' waits for its end to go with it.
    vi.advanceTimersByTime(1);
    await shortJobs(processor, 'short');
    expect(types(c, 'short-0')).toEqual(['job.received', 'job.started', 'job.completed']);
    expect(types(c, 'long')).toEqual([]);
    // …but not past STAGE_MAX_MS: the next hand-over comes STAGE_MAX_MS / 2 later at most.
    vi.advanceTimersByTime(STAGE_MAX_MS / 2);
    expect(Date.now() - 1_800_000_000_000).toBeLessThan(STAGE_MAX_MS);
    expect(types(c, 'long')).toEqual(['job.received', 'job.started']);
    control.finish();
    await long;
    processor.flush();
    expect(types(c, 'long')).toEqual(['job.received', 'job.started', 'job.completed']);
    // Each short job's three events were written in one go, one run of lines.
    expect(c.appends.filter((n) => n === 3)).toHaveLength(STAGE_MAX_ATTEMPTS);
    const i = c.events.findIndex((e) => e.job?.id === 'short-7');
    expect(c.events.slice(i, i + 3).map((e) => `${e.job?.id} ${e.type}`)).toEqual(['short-7 job.received', 'short-7 job.started', 'short-7 job.completed']);
  });

  it('keep a running job staged once only, even when the wall clock steps back', async () => {
    vi.useFakeTimers({ now: 1_800_000_000_000, toFake: ['Date', 'setTimeout', 'clearTimeout'] });
    const { c, processor, control } = withLongJob();
    const long = processor.process(job('long', Date.now() - 40));
    // The clock steps back 2 s: by Date.now(), 'long' looks as if it had just started for 2 s.
    vi.setSystemTime(Date.now() - 2000);
    await shortJobs(processor, 'a');
    await shortJobs(processor, 'b');
    expect(types(c, 'long')).toEqual(['job.received', 'job.started']);
    control.finish();
    await long;
    processor.flush();
    expect(types(c, 'long')).toEqual(['job.received', 'job.started', 'job.completed']);
  });

  it('report a kept running job that then fails as received, started, failed', async () => {
    vi.useFakeTimers({ now: 1_800_000_000_000, toFake: ['Date', 'setTimeout', 'clearTimeout'] });
    const { c, processor, control } = withLongJob();
    const long = processor.process(job('long', Date.now() - 40));
    await shortJobs(processor, 'short');
    expect(types(c, 'long')).toEqual([]);
    control.fail(new Error('CUDA out of memory'));
    await expect(long).rejects.toThrow('CUDA out of memory');
    expect(types(c, 'long')).toEqual(['job.received', 'job.started', 'job.failed']);
    processor.flush();
    expect(types(c, 'long')).toEqual(['job.received', 'job.started', 'job.failed']);
  });

  it('keep the order when the connector logs, reports progress or fails', async () => {
    const { c, processor } = setup({
      serviceType: 'simulated',
      name: 't',
      run: (j, ctx) => {
        ctx.log.info('loading model');
        ctx.progress(50);
        if (j.id === 'bad') throw new Error('CUDA out of memory');
        return Promise.resolve({});
      },
    });
    await processor.process(job('good', Date.now()));
    await expect(processor.process(job('bad', Date.now()))).rejects.toThrow('CUDA out of memory');
    processor.flush();
    expect(types(c, 'good')).toEqual(['job.received', 'job.started', 'log', 'job.progress', 'job.completed']);
    expect(types(c, 'bad')).toEqual(['job.received', 'job.started', 'log', 'job.progress', 'job.failed']);
  });

  it('keep exact ids when a millisecond runs out of its id counter (4096 ids), as it does here a dozen times', async () => {
    // captureCore's clock stands still: 3 × 20000 ids in one millisecond run the counter out ≈ 15 times.
    const { c, processor } = setup({ serviceType: 'simulated', name: 't', run: () => Promise.resolve({}) });
    for (let i = 0; i < 20_000; i++) await processor.process(job(`j${i}`, Date.now()));
    processor.flush();
    expect(c.events).toHaveLength(60_000);
    const ids = c.events.map((e) => e.id);
    expect(new Set(ids).size).toBe(60_000);
    expect(ids).toEqual([...ids].sort());
  });
});

describe('ctx', () => {
  it('works with its functions passed around as callbacks (unbound), as connectors do', async () => {
    const { c, processor } = setup({
      serviceType: 'simulated',
      name: 't',
      run: (_j, ctx) => {
        const { progress, reportUsage, log } = ctx;
        const { info } = log;
        info('loading model');
        progress(30, { stage: 'sampling' });
        reportUsage({ model: 'sdxl', provider: 'comfyui', gpuSeconds: 2 });
        return Promise.resolve({});
      },
    });
    await processor.process(job('cb', Date.now()));
    processor.flush();
    expect(types(c, 'cb')).toEqual(['job.received', 'job.started', 'log', 'job.progress', 'job.completed']);
    expect(c.events.at(-1)).toMatchObject({ ai: { model: 'sdxl', provider: 'comfyui', gpuSeconds: 2 } });
  });
});

describe('the at field of a lifecycle call', () => {
  it('sets the event time; a value that is not a time is reported and now is used', () => {
    const c = captureCore({ stdout: false });
    const jl = createJobLogger(c.core, 'job-1', undefined, () => '{p}:events');
    jl.jobReceived({ at: 1_700_000_000_000 });
    jl.jobStarted({ at: -5 as number });
    expect(c.events.map((e) => e.time)).toEqual([1_700_000_000_000, c.clock.ms]);
    expect(c.core.invalidCalls).toBe(1);
  });
});

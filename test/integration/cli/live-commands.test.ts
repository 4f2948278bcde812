import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tail from '../../../src/cli/commands/tail.js';
import * as watch from '../../../src/cli/commands/watch.js';
import { waitFor } from '../../helpers/redis.js';
import { startCliFixture, type CliFixture } from './cli-fixture.js';
import { jobLifecycle } from './seed-events.js';

describe('CLI live commands against the real API', () => {
  let fx: CliFixture;
  beforeAll(async () => {
    fx = await startCliFixture('cli-live');
  });
  afterAll(() => fx?.close());

  it('tail prints each change of the followed job and stops after --count', async () => {
    const run = fx.start(tail, ['--job', 'job-tail-1', '--count', '4']);
    await waitFor(() => run.err.text.includes('live, following'), { what: 'tail connected' });
    await fx.seed(...jobLifecycle('job-other', 'completed'), ...jobLifecycle('job-tail-1', 'failed'));
    expect(await run.done).toBe(0);
    const lines = run.out.text.trim().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines.map((l) => l.split(/\s+/)[1])).toEqual(['job.received', 'job.started', 'job.progress', 'job.failed']);
    expect(lines[2]).toMatch(/job-tail-1\s+running\s+50%/);
    expect(lines[3]).toMatch(/job-tail-1\s+failed\s+machine-1\/worker-1\/comfyui$/);
    expect(run.out.text).not.toContain('job-other');
  });

  it('tail --type job.completed --json prints only completions, as JSON lines', async () => {
    const run = fx.start(tail, ['--type', 'job.completed', '--json', '--count', '1']);
    await waitFor(() => run.err.text.includes('live, following'), { what: 'tail connected' });
    await fx.seed(...jobLifecycle('job-tail-2', 'completed'));
    expect(await run.done).toBe(0);
    expect(JSON.parse(run.out.text)).toMatchObject({ jobId: 'job-tail-2', eventType: 'job.completed', state: 'completed' });
  });

  it('tail rejects an unknown --type before connecting', async () => {
    const r = await fx.run(tail, ['--type', 'jobs']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--type must be job, worker or an event type');
  });

  it('watch redraws the table as a job moves through its states, with counts by state', async () => {
    const run = fx.start(watch, ['--for', '5']);
    await waitFor(() => run.out.text.includes('LIVE'), { what: 'watch live' });
    const completedBefore = Number(/completed (\d+)/.exec(lastFrame(run.out.text))?.[1]);
    const events = jobLifecycle('job-watch-1', 'completed', Date.now() - 3000);
    await fx.seed(events[0]!);
    await waitFor(() => /job-watch-1\s+received/.test(lastFrame(run.out.text)), { what: 'received row' });
    await fx.seed(events[1]!, events[2]!);
    await waitFor(() => /job-watch-1\s+running\s+1\s.*50%/.test(lastFrame(run.out.text)), { what: 'running row at 50%' });
    await fx.seed(events[3]!);
    await waitFor(() => /job-watch-1\s+completed/.test(lastFrame(run.out.text)), { what: 'completed row' });
    expect(lastFrame(run.out.text)).toContain(`completed ${completedBefore + 1} `);
    expect(lastFrame(run.out.text)).toMatch(/job-watch-1\s+completed\s+1\s+comfyui\s+machine-1\/worker-1\s+-\s+100%\s+2\.5s\s+now/);
    expect(await run.done).toBe(0);
  });
});

/** The last frame watch drew (frames start with the header line). */
function lastFrame(text: string): string {
  const i = text.lastIndexOf('jobscope watch');
  return i === -1 ? '' : text.slice(i);
}

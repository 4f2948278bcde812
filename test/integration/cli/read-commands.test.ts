import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as dlq from '../../../src/cli/commands/dlq.js';
import * as errors from '../../../src/cli/commands/errors.js';
import * as job from '../../../src/cli/commands/job.js';
import * as jobs from '../../../src/cli/commands/jobs.js';
import * as stats from '../../../src/cli/commands/stats.js';
import * as workers from '../../../src/cli/commands/workers.js';
import { deadLetterStreamKey, eventStreamKey } from '../../../src/events/index.js';
import { makeEvent } from '../../helpers/events.js';
import { startCliFixture, type CliFixture } from './cli-fixture.js';
import { jobLifecycle } from './seed-events.js';

describe('CLI read commands against the real API', () => {
  let fx: CliFixture;
  beforeAll(async () => {
    fx = await startCliFixture('cli');
    await fx.seed(...jobLifecycle('job-ok-1', 'completed'), ...jobLifecycle('job-bad-1', 'failed'));
    await fx.seed(makeEvent({ type: 'worker.heartbeat', time: Date.now(), data: { intervalMs: 5000, currentJobs: [] } }));
  });
  afterAll(() => fx?.close());

  it('jobs lists both jobs with their states, and filters', async () => {
    const all = await fx.run(jobs, []);
    expect(all.code).toBe(0);
    expect(all.stdout).toMatch(/^JOB\s+STATE/m);
    expect(all.stdout).toMatch(/job-ok-1\s+completed/);
    expect(all.stdout).toMatch(/job-bad-1\s+failed/);
    const failed = await fx.run(jobs, ['--state', 'failed', '--json']);
    const page = JSON.parse(failed.stdout) as { jobs: { id: string }[] };
    expect(page.jobs.map((j) => j.id)).toEqual(['job-bad-1']);
  });

  it('jobs pages with a cursor hint, and rejects a bad parameter with the API message', async () => {
    const first = await fx.run(jobs, ['--limit', '1']);
    expect(first.stdout).toMatch(/More: jobscope jobs --cursor \S+ --limit 1/);
    const bad = await fx.run(jobs, ['--state', 'sleeping']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/400.*state/);
  });

  it('job <id> shows the record, the error and the timeline with step durations', async () => {
    const ok = await fx.run(job, ['job-ok-1']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('Job job-ok-1  COMPLETED  attempt 1');
    expect(ok.stdout).toContain('sdxl-turbo');
    expect(ok.stdout).toMatch(/\+500ms\s+1\s+job\.started/);
    expect(ok.stdout).toMatch(/\+1\.5s\s+1\s+job\.completed\s+took 2\.5s/);
    const bad = await fx.run(job, ['job-bad-1']);
    expect(bad.stdout).toContain('Last error: CudaOutOfMemory (out_of_memory)');
    expect(bad.stdout).toContain('at sample (model.py:42)');
    const json = JSON.parse((await fx.run(job, ['job-ok-1', '--json'])).stdout) as { timeline: unknown[] };
    expect(json.timeline).toHaveLength(4);
  });

  it('job <unknown> exits 1 with the 404 message', async () => {
    const r = await fx.run(job, ['no-such-job']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('404');
  });

  it('workers shows the machine → worker → service tree', async () => {
    const r = await fx.run(workers, []);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Workers: \d+ busy, \d+ idle/);
    expect(r.stdout).toMatch(/└─ machine-1\n\s+└─ worker-1 \[(IDLE|BUSY)\]/);
    expect(r.stdout).toContain('comfyui (comfyui-local)');
  });

  it('errors groups the failure with an example job', async () => {
    const r = await fx.run(errors, []);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/1\s+comfyui\s+CudaOutOfMemory \(out_of_memory\)\s+CUDA out of memory.*job-bad-1/);
    const json = JSON.parse((await fx.run(errors, ['--json'])).stdout) as { groups: { count: number }[] };
    expect(json.groups[0]?.count).toBe(1);
  });

  it('stats prints throughput, latency and cost; --json parses', async () => {
    const r = await fx.run(stats, []);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/throughput\s+[\d.]+ jobs\/min/);
    expect(r.stdout).toMatch(/error rate\s+50\.0%/);
    expect(r.stdout).toContain('sdxl-turbo');
    const json = JSON.parse((await fx.run(stats, ['--json'])).stdout) as { jobsByState: Record<string, number> };
    expect(json.jobsByState.completed).toBe(1);
  });

  it('dlq list shows a dead letter and replay puts it back on the stream', async () => {
    const empty = await fx.run(dlq, ['list']);
    expect(empty.stdout).toContain('No dead letters');
    const ev = makeEvent({ type: 'job.received', job: { id: 'job-dlq', attempt: 1 } });
    const stream = eventStreamKey({ prefix: fx.prefix });
    await fx.redis.xadd(deadLetterStreamKey({ prefix: fx.prefix }), '*', 'reason', 'fluentd refused it', 'sink', 'fluentd', 'deliveries', '5', 'stream', stream, 'id', '1-0', 'eventId', ev.id, 'orig.v', '1', 'orig.e', JSON.stringify(ev));
    const listed = await fx.run(dlq, ['list']);
    expect(listed.stdout).toMatch(/fluentd\s+5\s+job\.received\s+fluentd refused it/);
    const replay = await fx.run(dlq, ['replay', '--all']);
    expect(replay.stdout).toBe('Replayed 1 dead letter(s) onto the event stream.\n');
    expect(await fx.redis.xlen(stream)).toBe(1);
    expect(JSON.parse((await fx.run(dlq, ['list', '--json'])).stdout)).toMatchObject({ total: 0 });
    expect((await fx.run(dlq, ['replay'])).code).toBe(2);
  });

  it('dlq replay of one id run twice at once puts it back once, and the other call says it was already replayed', async () => {
    const ev = makeEvent({ type: 'job.received', job: { id: 'job-dlq-twice', attempt: 1 } });
    const stream = eventStreamKey({ prefix: fx.prefix });
    const before = await fx.redis.xlen(stream);
    const id = (await fx.redis.xadd(deadLetterStreamKey({ prefix: fx.prefix }), '*', 'reason', 'fluentd refused it', 'sink', 'fluentd', 'deliveries', '5', 'stream', stream, 'id', '2-0', 'eventId', ev.id, 'orig.v', '1', 'orig.e', JSON.stringify(ev)))!;
    const runs = await Promise.all([fx.run(dlq, ['replay', id]), fx.run(dlq, ['replay', id])]);
    expect(runs.map((r) => [r.code, r.stderr])).toEqual([[0, ''], [0, '']]);
    expect(runs.map((r) => r.stdout).sort()).toEqual([
      'Replayed 0 dead letter(s) onto the event stream.\n1 of the named dead letter(s) was not replayed: already replayed (perhaps by another replay running at the same time), no such id, or not from this installation\'s event streams (those stay). "jobscope dlq list" shows what is left.\n',
      'Replayed 1 dead letter(s) onto the event stream.\n',
    ]);
    expect(await fx.redis.xlen(stream)).toBe(before + 1);
    expect(JSON.parse((await fx.run(dlq, ['list', '--json'])).stdout)).toMatchObject({ total: 0 });
  });

  it('a wrong token and an unreachable API say what to do', async () => {
    const denied = await fx.run(jobs, ['--token', 'wrong']);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/401.*token was refused/);
    const down = await fx.run(jobs, ['--api', 'http://127.0.0.1:1']);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/Cannot reach the Jobscope API at http:\/\/127\.0\.0\.1:1 .*--api/);
  });
});

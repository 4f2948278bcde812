import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobscopeEvent } from '../../../src/events/index.js';
import type { JobFilter, JobRecord } from '../../../src/status/index.js';
import { ValidationError } from '../../../src/errors.js';
import { jobEvent, statusFixture, type StatusFixture } from './status-fixture.js';

const T = 1_700_000_000_000;
const N = 250;
let fx: StatusFixture;

interface Spec {
  id: string;
  time: number;
  state: 'received' | 'running' | 'completed';
  machineId: string;
  workerId: string;
  serviceType: string;
  connectorId: string;
  model: string;
}

const specs: Spec[] = Array.from({ length: N }, (_, i) => ({
  id: `job-${String(i).padStart(3, '0')}`,
  time: T + Math.floor(i / 4), // runs of four equal update times: ties must page cleanly too
  state: (['received', 'running', 'completed'] as const)[i % 3]!,
  machineId: `m${i % 3 === 0 ? 0 : (i % 2) + 1}`,
  workerId: `w${i % 5}`,
  serviceType: i % 2 === 0 ? 'comfyui' : 'openai',
  connectorId: `c${i % 4}`,
  model: `model-${i % 6}`,
}));

function eventsOf(s: Spec): JobscopeEvent[] {
  const source = { machineId: s.machineId, workerId: s.workerId, serviceType: s.serviceType, connectorId: s.connectorId };
  const common = { source, ai: { model: s.model } };
  const out = [jobEvent('job.received', s.id, 1, s.time, common)];
  if (s.state !== 'received') out.push(jobEvent('job.started', s.id, 1, s.time, common));
  if (s.state === 'completed') out.push(jobEvent('job.completed', s.id, 1, s.time, { ...common, data: { durationMs: 1 } }));
  return out;
}

function expected(filter: JobFilter): string[] {
  return specs
    .filter(
      (s) =>
        (filter.state === undefined || s.state === filter.state) &&
        (filter.serviceType === undefined || s.serviceType === filter.serviceType) &&
        (filter.machineId === undefined || s.machineId === filter.machineId) &&
        (filter.workerId === undefined || s.workerId === filter.workerId) &&
        (filter.connectorId === undefined || s.connectorId === filter.connectorId) &&
        (filter.model === undefined || s.model === filter.model) &&
        (filter.from === undefined || s.time >= filter.from) &&
        (filter.to === undefined || s.time <= filter.to) &&
        (filter.idPrefix === undefined || s.id.startsWith(filter.idPrefix)),
    )
    .sort((a, b) => b.time - a.time || (a.id < b.id ? 1 : -1))
    .map((s) => s.id);
}

async function pageAll(filter: JobFilter, limit: number): Promise<{ ids: string[]; pages: number; records: JobRecord[] }> {
  const records: JobRecord[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await fx.reader.listJobs(filter, { limit, cursor });
    expect(page.jobs.length).toBeLessThanOrEqual(limit);
    records.push(...page.jobs);
    cursor = page.nextCursor;
    pages += 1;
    if (pages > 1000) throw new Error('paging does not end');
  } while (cursor);
  return { ids: records.map((r) => r.id), pages, records };
}

beforeAll(async () => {
  fx = statusFixture();
  const events = specs.flatMap(eventsOf);
  for (let i = 0; i < events.length; i += 200) await fx.apply(...events.slice(i, i + 200));
});
afterAll(async () => {
  await fx.done();
});

describe('listJobs over 250 jobs', () => {
  const filters: [string, JobFilter][] = [
    ['no filter', {}],
    ['state', { state: 'running' }],
    ['service', { serviceType: 'openai' }],
    ['machine', { machineId: 'm1' }],
    ['worker', { workerId: 'w2' }],
    ['connector', { connectorId: 'c3' }],
    ['model', { model: 'model-5' }],
    ['several combined', { serviceType: 'comfyui', state: 'completed', workerId: 'w4' }],
    ['time window', { from: T + 10, to: T + 40 }],
    ['state and time window', { state: 'received', from: T + 20 }],
  ];

  it.each(filters)('by %s: cursor pages hold every match once, newest first', async (_name, filter) => {
    const want = expected(filter);
    expect(want.length).toBeGreaterThan(0);
    const { ids, pages, records } = await pageAll(filter, 17);
    expect(ids).toEqual(want);
    expect(new Set(ids).size).toBe(ids.length);
    expect(pages).toBeGreaterThanOrEqual(Math.ceil(want.length / 17));
    for (const r of records) if (filter.state) expect(r.state).toBe(filter.state);
  });

  it('a first page is the newest jobs, with a cursor to the rest', async () => {
    const page = await fx.reader.listJobs({}, { limit: 5 });
    expect(page.jobs.map((j) => j.id)).toEqual(expected({}).slice(0, 5));
    expect(page.nextCursor).toBeTypeOf('string');
  });

  it('finds jobs by id prefix, alone and with other filters, with paging', async () => {
    const { ids } = await pageAll({ idPrefix: 'job-01' }, 4);
    expect(ids).toEqual(expected({ idPrefix: 'job-01' }));
    expect(ids).toHaveLength(10);
    expect((await pageAll({ idPrefix: 'job-1', state: 'completed' }, 7)).ids).toEqual(
      expected({ idPrefix: 'job-1', state: 'completed' }),
    );
    expect((await fx.reader.listJobs({ idPrefix: 'nothing-' })).jobs).toEqual([]);
  });

  it('listJobsByIds returns the jobs that exist, in the order asked', async () => {
    const jobs = await fx.reader.listJobsByIds(['job-007', 'missing', 'job-002']);
    expect(jobs.map((j) => j.id)).toEqual(['job-007', 'job-002']);
  });

  it('a filter value nobody has gives an empty page without a cursor', async () => {
    expect(await fx.reader.listJobs({ workerId: 'w-none' })).toEqual({ jobs: [] });
  });

  it('a forged cursor is refused with a ValidationError', async () => {
    await expect(fx.reader.listJobs({}, { cursor: 'not-a-cursor' })).rejects.toBeInstanceOf(ValidationError);
  });

  it('counts jobs per state', async () => {
    expect(await fx.reader.countByState()).toEqual({
      received: expected({ state: 'received' }).length,
      running: expected({ state: 'running' }).length,
      completed: expected({ state: 'completed' }).length,
      retrying: 0,
      failed: 0,
      cancelled: 0,
    });
  });
});

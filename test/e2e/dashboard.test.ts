import { mkdirSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer, type ApiServer } from '../../src/api/api-server.js';
import type { JobscopeEvent } from '../../src/events/index.js';
import { createStatusSink, type StatusSink } from '../../src/sinks/status/index.js';
import { makeEvent } from '../helpers/events.js';
import { cleanupPrefix, testPrefix, testRedis } from '../helpers/redis.js';

const TOKEN = 'e2e-dashboard-token';
const JOB = 'img-7f3a9c21-e2e';

describe('dashboard in Chromium', () => {
  const redis = testRedis();
  const prefix = testPrefix('e2e');
  let api: ApiServer;
  let sink: StatusSink;
  let browser: Browser;
  let page: Page;
  const write = async (...events: JobscopeEvent[]): Promise<void> => {
    const r = await sink.write(events, new AbortController().signal);
    if (r.status !== 'ok') throw new Error(`status sink refused: ${JSON.stringify(r)}`);
  };

  beforeAll(async () => {
    api = await startApiServer({ redis, prefix, auth: { token: TOKEN }, port: 0, host: '127.0.0.1', stuck: { autoStart: false }, sse: { blockMs: 500 } });
    sink = createStatusSink({ redis, prefix, pruneIntervalMs: 0 });
    await write(...demoData());
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    page = await browser.newPage({ viewport: { width: 1500, height: 900 } });
  });
  afterAll(async () => {
    await browser?.close();
    await api?.close();
    await sink?.close();
    await cleanupPrefix(redis, prefix);
    redis.disconnect();
  });

  it('shows a job moving through its states live, then its timeline', async () => {
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(err.message));
    await page.goto(`${api.url}/#token=${TOKEN}`);
    await page.waitForSelector('#conn[data-state="live"]');
    expect(new URL(page.url()).hash).toBe(''); // the token left the address bar
    await page.waitForSelector('tr[data-id="demo-job-0"]');
    await page.evaluate(() => ((window as unknown as { loadMarker: number }).loadMarker = 1));

    const t0 = Date.now() - 4000;
    const job = { id: JOB, attempt: 1, queue: 'images', name: 'txt2img' };
    const row = `tr[data-id="${JOB}"]`;
    await write(makeEvent({ type: 'job.received', job, time: t0, data: { queueWaitMs: 120 } }));
    await page.waitForSelector(`${row}[data-state="received"]`);
    await write(makeEvent({ type: 'job.started', job, time: t0 + 1200, data: { queueWaitMs: 1200 } }));
    await page.waitForSelector(`${row}[data-state="running"]`);
    await write(makeEvent({ type: 'job.progress', job, time: t0 + 2500, data: { progress: 60, stage: 'sampling' } }));
    await page.waitForFunction((sel) => document.querySelector(sel)?.textContent?.includes('60%'), row);

    // Time from writing jobCompleted to the row showing it, observed inside the page.
    const seen = page.evaluate(
      (sel) =>
        new Promise<number>((resolve) => {
          const check = (): boolean => document.querySelector(`${sel}[data-state="completed"]`) !== null;
          if (check()) return resolve(Date.now());
          new MutationObserver((_m, obs) => {
            if (check()) {
              obs.disconnect();
              resolve(Date.now());
            }
          }).observe(document.body, { subtree: true, childList: true, attributes: true });
        }),
      row,
    );
    const written = Date.now();
    await write(makeEvent({ type: 'job.completed', job, time: Date.now(), ai: { model: 'sdxl-turbo', provider: 'local', inputTokens: 77, costUsd: 0.0031 }, data: { durationMs: 3100 } }));
    const latencyMs = (await seen) - written;
    console.log(`dashboard: jobCompleted written → row shows "completed" in ${latencyMs} ms`);
    expect(latencyMs).toBeLessThan(5000);
    expect(await page.textContent(`${row} td.state`)).toBe('completed');
    expect(await page.evaluate(() => (window as unknown as { loadMarker?: number }).loadMarker)).toBe(1); // no reload

    await page.click(row);
    await page.waitForSelector('#detail:not([hidden]) .timeline li[data-type="job.completed"]');
    const steps = await page.$$eval('#detail .timeline li', (lis) => lis.map((li) => (li as HTMLElement).dataset.type));
    expect(steps).toEqual(['job.received', 'job.started', 'job.progress', 'job.completed']);
    const gaps = await page.$$eval('#detail .timeline .tl-gap', (els) => els.map((e) => e.textContent));
    expect(gaps[0]).toBe('queue wait 1.2s');
    expect(gaps[1]).toBe('+1.3s');
    expect(await page.textContent('#detail h2')).toBe(JOB);
    expect(await page.textContent('#detail .facts')).toContain('sdxl-turbo');

    mkdirSync('docs/screenshots', { recursive: true });
    await page.screenshot({ path: 'docs/screenshots/dashboard.png' });
    expect(problems).toEqual([]);
  });

  it('shows the workers tree, the error groups and the stats charts', async () => {
    await page.keyboard.press('Escape');
    await write(...heartbeats()); // fresh ones: the first test may have run past 3 heartbeat intervals
    await page.click('#tab-workers');
    await page.waitForSelector('#view-workers .machine');
    const tree = await page.textContent('#view-workers');
    expect(tree).toMatch(/gpu-l40-02.*worker-002.*busy.*demo-job-11/s);
    await page.screenshot({ path: 'docs/screenshots/dashboard-workers.png' });
    await page.click('#tab-errors');
    await page.waitForSelector('#view-errors table.errors');
    const groups = await page.$$eval('#view-errors tbody tr', (trs) => trs.map((tr) => tr.textContent));
    expect(groups).toHaveLength(2); // demo-job-3 (openai) and demo-job-8 (comfyui): one group per service
    for (const g of groups) expect(g).toMatch(/^1(comfyui|openai)TimeoutErrortimeoutsampler did not finish within <n> ms/);
    await page.click('#tab-stats');
    await page.waitForSelector('#view-stats svg.chart rect.c-ok');
    // This store's data begins seconds ago: the throughput says it is over that time, not the hour.
    expect(await page.textContent('#view-stats .tiles')).toMatch(/Throughput[\d.]+\/min over the last \d+m?\d*s/);
    await page.screenshot({ path: 'docs/screenshots/dashboard-stats.png' });
  });
});

/** A small believable installation: finished, failed and running jobs on two machines. */
function demoData(): JobscopeEvent[] {
  const now = Date.now();
  const out: JobscopeEvent[] = [];
  const machines = MACHINES;
  for (let i = 0; i < 12; i++) {
    const [machineId, workerId, serviceType, connectorId] = machines[i % 2]!;
    const source = { machineId, workerId, serviceType, connectorId };
    const job = { id: `demo-job-${i}`, attempt: 1, queue: 'images' };
    const t = now - (12 - i) * 20_000;
    const ai = { model: serviceType === 'comfyui' ? 'flux-schnell' : 'gpt-4o-mini', provider: serviceType === 'comfyui' ? 'local' : 'openai', costUsd: 0.002 + i * 0.0004 };
    out.push(makeEvent({ type: 'job.received', source, job, time: t, data: { queueWaitMs: 300 } }));
    out.push(makeEvent({ type: 'job.started', source, job, time: t + 400, data: { queueWaitMs: 400 } }));
    if (i === 11) out.push(makeEvent({ type: 'job.progress', source, job, time: t + 3000, data: { progress: 35 } }));
    else if (i % 5 === 3)
      out.push(makeEvent({ type: 'job.failed', source, job, time: t + 5000, level: 'error', data: { durationMs: 4600, willRetry: false, error: { type: 'TimeoutError', category: 'timeout', message: 'sampler did not finish within 4500 ms' } } }));
    else out.push(makeEvent({ type: 'job.completed', source, job, time: t + 2000 + i * 150, ai, data: { durationMs: 1600 + i * 150 } }));
  }
  return [...out, ...heartbeats()];
}

const MACHINES = [
  ['gpu-a100-01', 'worker-001', 'comfyui', 'comfyui-local'],
  ['gpu-l40-02', 'worker-002', 'openai', 'openai-compatible'],
] as const;

/** A heartbeat of each demo worker, now; worker-002 runs demo-job-11. */
function heartbeats(): JobscopeEvent[] {
  return MACHINES.map(([machineId, workerId, serviceType, connectorId]) =>
    makeEvent({ type: 'worker.heartbeat', source: { machineId, workerId, serviceType, connectorId }, time: Date.now(), data: { intervalMs: 5000, currentJobs: machineId === 'gpu-l40-02' ? ['demo-job-11'] : [] } }),
  );
}

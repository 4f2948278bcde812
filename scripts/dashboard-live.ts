// Measures the time from a ConnectorLogger `jobCompleted` call to the change appearing in a real
// browser (logger → Redis stream → pipeline → status store → live feed → SSE → DOM), and saves a
// screenshot of the dashboard over live demo data. Run against `npm start` (or any stack):
//   node --import tsx scripts/dashboard-live.ts [dashboard URL] [rounds]
// The URL defaults to http://127.0.0.1:3000/ ; REDIS_URL / JOBSCOPE_PREFIX as for the stack.
import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { ConnectorLogger } from '../src/logger/connector-logger.js';

const url = process.argv[2] ?? 'http://127.0.0.1:3000/';
const rounds = Number(process.argv[3] ?? 10);
const logger = new ConnectorLogger({
  machineId: 'latency-probe',
  workerId: 'probe-001',
  serviceType: 'comfyui',
  connectorId: 'comfyui-probe',
  redis: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  prefix: process.env.JOBSCOPE_PREFIX ?? 'jobscope',
  stdout: false,
});
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
});
const page = await browser.newPage({ viewport: { width: 1500, height: 900 } });
await page.goto(url);
await page.waitForSelector('#conn[data-state="live"]', { timeout: 30_000 });

const samples: number[] = [];
for (let i = 0; i < rounds; i++) {
  const id = `probe-${Date.now().toString(36)}-${i}`;
  const job = logger.withJobContext(id, { queue: 'probe', name: 'latency' });
  job.jobReceived();
  job.jobStarted();
  await page.waitForSelector(`tr[data-id="${id}"][data-state="running"]`, { timeout: 30_000 });
  const t0 = Date.now();
  job.jobCompleted({ outputCount: 1 });
  await page.waitForSelector(`tr[data-id="${id}"][data-state="completed"]`, { timeout: 30_000 });
  samples.push(Date.now() - t0);
  process.stdout.write(`round ${i + 1}/${rounds}: ${samples.at(-1)} ms\n`);
}
samples.sort((a, b) => a - b);
const q = (p: number) => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))]!;
console.log(`jobCompleted → browser: min ${samples[0]} ms, median ${q(0.5)} ms, max ${samples.at(-1)} ms over ${rounds} rounds`);

mkdirSync('docs/screenshots', { recursive: true });
await page.waitForTimeout(1500);
await page.screenshot({ path: 'docs/screenshots/dashboard-live-demo.png' });
console.log('screenshot: docs/screenshots/dashboard-live-demo.png');
await browser.close();
await logger.close(5000);

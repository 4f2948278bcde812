import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiApp } from '../../../src/api/api-app.js';
import { createDeadLetter } from '../../../src/bus/dead-letter.js';
import { parseEntries } from '../../../src/bus/stream-entry.js';
import { deadLetterStreamKey, encodeEntry, eventStreamKey } from '../../../src/events/index.js';
import { makeEvent } from '../../helpers/events.js';
import { cleanupPrefix, testPrefix, testRedis } from '../../helpers/redis.js';
import { bearer, testApp } from './api-fixtures.js';

let redis: Redis;
let prefix: string;
let app: ApiApp;
let dir: string;
const eventIds: string[] = [];

/** Dead-letters three events the way the pipeline does: XADD, read by a group, then the bus's dead-letter script. */
async function deadLetterThree(): Promise<void> {
  const stream = eventStreamKey({ prefix });
  await redis.xgroup('CREATE', stream, 'sink:status', '0', 'MKSTREAM');
  for (let i = 0; i < 3; i++) {
    const event = makeEvent({ type: 'job.completed', job: { id: `dead-${i}`, attempt: 1 } });
    eventIds.push(event.id);
    await redis.xadd(stream, '*', ...encodeEntry(event));
  }
  const reply = (await redis.xreadgroup('GROUP', 'sink:status', 'c1', 'COUNT', 10, 'STREAMS', stream, '>')) as [string, unknown][];
  const entries = parseEntries(stream, reply[0]![1], 5);
  const dl = createDeadLetter({ redis, deadLetterStream: deadLetterStreamKey({ prefix }), group: 'sink:status', sink: 'status' });
  await dl.send(entries.map((entry, i) => ({ entry, code: 'max_deliveries' as const, reason: 'backend kept failing', eventId: eventIds[i]! })));
}

beforeAll(async () => {
  redis = testRedis();
  prefix = testPrefix('dlq');
  dir = mkdtempSync(join(tmpdir(), 'jobscope-dash-'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>Jobscope</title>');
  writeFileSync(join(dir, 'app.js'), 'console.log(1)');
  writeFileSync(join(dir, 'style.css'), 'body{}');
  await deadLetterThree();
  app = testApp(redis, prefix, { dashboardDir: dir });
});

afterAll(async () => {
  await app.close();
  await cleanupPrefix(redis, prefix);
  redis.disconnect();
  rmSync(dir, { recursive: true, force: true });
});

describe('dead letters', () => {
  it('lists them newest first with reason, sink, deliveries and the original event', async () => {
    const body = (await (await app.request('/api/dlq?limit=2', bearer())).json()) as { entries: Record<string, unknown>[]; total: number; nextCursor: string };
    expect(body.total).toBe(3);
    expect(body.entries).toHaveLength(2);
    expect(body.entries[0]).toMatchObject({ reason: 'backend kept failing', code: 'max_deliveries', sink: 'status', deliveries: 5, originalStream: eventStreamKey({ prefix }), eventId: eventIds[2], eventType: 'job.completed' });
    const rest = (await (await app.request(`/api/dlq?limit=2&cursor=${body.nextCursor}`, bearer())).json()) as { entries: { eventId: string }[] };
    expect(rest.entries.map((e) => e.eventId)).toEqual([eventIds[0]]);
  });

  it('replays chosen entries, then all, back onto the event stream byte for byte', async () => {
    const stream = eventStreamKey({ prefix });
    const before = await redis.xlen(stream);
    const list = (await (await app.request('/api/dlq', bearer())).json()) as { entries: { id: string }[] };
    const one = await app.request('/api/dlq/replay', { method: 'POST', ...bearer(), body: JSON.stringify({ ids: [list.entries[0]!.id] }) });
    expect(await one.json()).toEqual({ replayed: 1 });
    const all = await app.request('/api/dlq/replay', { method: 'POST', ...bearer(), body: '{"all":true}' });
    expect(await all.json()).toEqual({ replayed: 2 });
    expect(await redis.xlen(deadLetterStreamKey({ prefix }))).toBe(0);
    const replayed = await redis.xrange(stream, '-', '+');
    expect(replayed.length).toBe(before + 3);
    const ids = replayed.slice(before).map(([, fields]) => (JSON.parse(fields[3]!) as { id: string }).id);
    expect(ids.sort()).toEqual([...eventIds].sort());
    expect(replayed.at(-1)![1].slice(0, 2)).toEqual(['v', '1']);
  });
});

describe('dead letters of packed entries', () => {
  it('lists one event of a packed entry with its part, and replays just that event as a single-event entry', async () => {
    const p = testPrefix('dlqpack');
    const api = testApp(redis, p);
    try {
      const stream = eventStreamKey({ prefix: p });
      const events = [makeEvent({ type: 'job.started' }), makeEvent({ type: 'job.failed' }), makeEvent({ type: 'job.progress' })];
      const lines = events.map((e) => JSON.stringify(e));
      await redis.xgroup('CREATE', stream, 'sink:status', '0', 'MKSTREAM');
      const entryId = await redis.xadd(stream, '*', 'v', '1', 'b', lines.join('\n'));
      const reply = (await redis.xreadgroup('GROUP', 'sink:status', 'c1', 'COUNT', 10, 'STREAMS', stream, '>')) as [string, unknown][];
      const [entry] = parseEntries(stream, reply[0]![1], 2);
      const dl = createDeadLetter({ redis, deadLetterStream: deadLetterStreamKey({ prefix: p }), group: 'sink:status', sink: 'status' });
      await dl.send([{ entry: entry!, code: 'rejected', reason: 'refused', eventId: events[1]!.id, part: { index: 1, ack: true } }]);
      const body = (await (await api.request('/api/dlq', bearer())).json()) as { entries: Record<string, unknown>[] };
      expect(body.entries).toHaveLength(1);
      expect(body.entries[0]).toMatchObject({ code: 'rejected', originalId: entryId, eventId: events[1]!.id, eventType: 'job.failed', part: 1, deliveries: 2 });
      const res = await api.request('/api/dlq/replay', { method: 'POST', ...bearer(), body: '{"all":true}' });
      expect(await res.json()).toEqual({ replayed: 1 });
      const rows = await redis.xrange(stream, '-', '+');
      expect(rows).toHaveLength(2);
      expect(rows[1]![1]).toEqual(['v', '1', 'e', lines[1]]); // that event alone, not its entry
    } finally {
      await api.close();
      await cleanupPrefix(redis, p);
    }
  });
});

describe('dashboard', () => {
  it('serves the static files with their content types, without a token', async () => {
    const index = await app.request('/');
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await index.text()).toContain('<title>Jobscope</title>');
    expect((await app.request('/app.js')).headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect((await app.request('/style.css')).headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect((await app.request('/missing.js')).status).toBe(404);
  });
});

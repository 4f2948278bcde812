import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ApiApp } from '../../../src/api/api-app.js';
import { createDeadLetter, type DeadLetter } from '../../../src/bus/dead-letter.js';
import { parseEntries } from '../../../src/bus/stream-entry.js';
import { deadLetterStreamKey, eventStreamKey } from '../../../src/events/index.js';
import { cleanupPrefix, testPrefix, testRedis } from '../../helpers/redis.js';
import { bearer, testApp } from './api-fixtures.js';

/**
 * `POST /api/dlq/replay {"all":true}` against a pipeline that is still running and still cannot
 * take the events: every replayed event comes straight back as new dead letters while the replay
 * pages. The replay must stop at what was there when it started, and put each source event back
 * once, not once per sink that dead-lettered it.
 */

const SINKS = ['status', 'otel', 'sentry'];
/** Source events; each is dead-lettered by every sink, so 3 records apiece and two pages of 200. */
const EVENTS = 100;

let redis: Redis;
let pipelineRedis: Redis;
let prefix: string;
let stream: string;
let dlqKey: string;
let app: ApiApp;
let sinks: { group: string; dl: DeadLetter }[];

/** One round of a pipeline whose every sink finds every new entry invalid; returns how many records it wrote. */
async function pipelineRound(): Promise<number> {
  let written = 0;
  for (const { group, dl } of sinks) {
    const reply = (await pipelineRedis.xreadgroup('GROUP', group, 'c1', 'COUNT', 1000, 'STREAMS', stream, '>')) as [string, unknown][] | null;
    const entries = parseEntries(stream, reply?.[0]?.[1], 1);
    await dl.send(entries.map((entry) => ({ entry, code: 'invalid' as const, reason: 'not a Jobscope event' })));
    written += entries.length;
  }
  return written;
}

/** Runs {@link pipelineRound} over and over until stopped, like a live pipeline would. */
function runPipeline(): { stop(): Promise<void> } {
  let stopped = false;
  const loop = (async () => {
    while (!stopped) if ((await pipelineRound()) === 0) await new Promise((r) => setTimeout(r, 1));
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

beforeEach(async () => {
  redis = testRedis();
  pipelineRedis = testRedis();
  prefix = testPrefix('dlqall');
  stream = eventStreamKey({ prefix });
  dlqKey = deadLetterStreamKey({ prefix });
  sinks = [];
  for (const sink of SINKS) {
    const group = `sink:${sink}`;
    await redis.xgroup('CREATE', stream, group, '0', 'MKSTREAM');
    sinks.push({ group, dl: createDeadLetter({ redis: pipelineRedis, deadLetterStream: dlqKey, group, sink }) });
  }
  app = testApp(redis, prefix);
});

afterEach(async () => {
  await app.close();
  await cleanupPrefix(redis, prefix);
  redis.disconnect();
  pipelineRedis.disconnect();
});

async function replay(body: unknown): Promise<number> {
  const res = await app.request('/api/dlq/replay', { method: 'POST', ...bearer(), body: JSON.stringify(body) });
  expect(res.status).toBe(200);
  return ((await res.json()) as { replayed: number }).replayed;
}

describe('dlq replay --all', () => {
  it('replays what was dead-lettered when it started, once per source event, while the pipeline dead-letters the replayed events again', async () => {
    const payloads: string[] = [];
    for (let i = 0; i < EVENTS; i++) {
      payloads.push(`{"bad":${i}}`);
      await redis.xadd(stream, '*', 'v', '1', 'e', payloads[i]!);
    }
    expect(await pipelineRound()).toBe(EVENTS * SINKS.length);
    const atStart = await redis.xrange(dlqKey, '-', '+');
    expect(atStart).toHaveLength(EVENTS * SINKS.length);
    const lastSourceId = (await redis.xrevrange(stream, '+', '-', 'COUNT', 1))[0]![0];

    const pipeline = runPipeline();
    let replayed: number;
    try {
      replayed = await replay({ all: true });
    } finally {
      await pipeline.stop();
    }
    while ((await pipelineRound()) > 0);

    expect(replayed).toBe(atStart.length);
    // Each source event went back once: every sink's group read it from that one entry.
    const readded = await redis.xrange(stream, `(${lastSourceId}`, '+');
    expect(readded.map(([, f]) => f[3]).sort()).toEqual([...payloads].sort());
    // The dead letters now are the replayed events dead-lettered again, one per sink; none of the old ones.
    const now = await redis.xrange(dlqKey, '-', '+');
    const oldIds = new Set(atStart.map(([id]) => id));
    expect(now.filter(([id]) => oldIds.has(id))).toEqual([]);
    expect(now).toHaveLength(EVENTS * SINKS.length);
    const readdedIds = new Set(readded.map(([id]) => id));
    for (const [, f] of now) expect(readdedIds.has(f[f.indexOf('id') + 1]!)).toBe(true);
  });

  it('re-adds an event once when the ids name several sinks’ records of it, and removes them all', async () => {
    await redis.xadd(stream, '*', 'v', '1', 'e', '{"bad":"one"}');
    await redis.xadd(stream, '*', 'v', '1', 'e', '{"bad":"two"}');
    await pipelineRound();
    const records = await redis.xrange(dlqKey, '-', '+');
    expect(records).toHaveLength(2 * SINKS.length);
    const before = await redis.xlen(stream);
    expect(await replay({ ids: records.map(([id]) => id) })).toBe(records.length);
    expect(await redis.xlen(dlqKey)).toBe(0);
    const readded = (await redis.xrange(stream, '-', '+')).slice(before);
    expect(readded.map(([, f]) => f)).toEqual([
      ['v', '1', 'e', '{"bad":"one"}'],
      ['v', '1', 'e', '{"bad":"two"}'],
    ]);
  });
});

/**
 * Replays running at once (two CLI calls, the route called twice, `--all` beside a single replay,
 * API processes side by side): each record goes back by exactly one of them, each source event
 * once, and each record is counted by the replay that took it.
 */
describe('dlq replays running at the same time', () => {
  /** Dead-letters `n` events through every sink; returns their payloads and the last source entry id. */
  async function deadLetterEvents(n: number): Promise<{ payloads: string[]; lastSourceId: string }> {
    const payloads: string[] = [];
    for (let i = 0; i < n; i++) {
      payloads.push(`{"race":${i}}`);
      await redis.xadd(stream, '*', 'v', '1', 'e', payloads[i]!);
    }
    expect(await pipelineRound()).toBe(n * SINKS.length);
    return { payloads, lastSourceId: (await redis.xrevrange(stream, '+', '-', 'COUNT', 1))[0]![0] };
  }

  /** The `e` fields of the entries added to the event stream after `afterId`. */
  async function readdedPayloads(afterId: string): Promise<string[]> {
    return (await redis.xrange(stream, `(${afterId}`, '+')).map(([, f]) => f[f.indexOf('e') + 1]!);
  }

  it('five replays of one record put its event back once; one of them counts it', async () => {
    const { payloads, lastSourceId } = await deadLetterEvents(1);
    const [first, ...others] = (await redis.xrange(dlqKey, '-', '+')).map(([id]) => id);
    const counts = await Promise.all(Array.from({ length: 5 }, () => replay({ ids: [first] })));
    expect(await readdedPayloads(lastSourceId)).toEqual(payloads);
    expect((await redis.xrange(dlqKey, '-', '+')).map(([id]) => id)).toEqual(others);
    expect(counts.sort()).toEqual([0, 0, 0, 0, 1]);
    // The other sinks' records of that event, replayed later, only go: their groups read the entry put back.
    expect(await replay({ ids: others })).toBe(others.length);
    expect(await readdedPayloads(lastSourceId)).toEqual(payloads);
    expect(await redis.xlen(dlqKey)).toBe(0);
  });

  it('a record dead-lettered again after its event went back is a new failure: replayed, it goes back again', async () => {
    const { payloads, lastSourceId } = await deadLetterEvents(1);
    expect(await replay({ all: true })).toBe(SINKS.length);
    expect(await readdedPayloads(lastSourceId)).toEqual(payloads);
    // The pipeline still cannot take it: every sink dead-letters the entry put back (the same source event).
    await new Promise((r) => setTimeout(r, 2));
    expect(await pipelineRound()).toBe(SINKS.length);
    expect(await replay({ all: true })).toBe(SINKS.length);
    expect(await readdedPayloads(lastSourceId)).toEqual([...payloads, ...payloads]);
    expect(await redis.xlen(dlqKey)).toBe(0);
  });

  it('--all racing another --all and single replays, over two API processes, puts each event back once', async () => {
    const other = testRedis();
    const otherApp = testApp(other, prefix);
    try {
      const { payloads, lastSourceId } = await deadLetterEvents(30);
      const records = (await redis.xrange(dlqKey, '-', '+')).map(([id]) => id);
      const on = async (a: ApiApp, body: unknown) => {
        const res = await a.request('/api/dlq/replay', { method: 'POST', ...bearer(), body: JSON.stringify(body) });
        expect(res.status).toBe(200);
        return ((await res.json()) as { replayed: number }).replayed;
      };
      // Single replays of records from the start, middle and end, some of them several sinks' records of one event.
      const singles = [records[0]!, records[1]!, records[45]!, records[46]!, records[47]!, records.at(-1)!];
      const counts = await Promise.all([
        on(app, { all: true }),
        on(otherApp, { all: true }),
        ...singles.map((id, i) => on(i % 2 ? app : otherApp, { ids: [id] })),
        on(otherApp, { ids: singles }),
      ]);
      expect((await readdedPayloads(lastSourceId)).sort()).toEqual([...payloads].sort());
      expect(await redis.xlen(dlqKey)).toBe(0);
      expect(counts.reduce((a, b) => a + b, 0)).toBe(records.length);
    } finally {
      await otherApp.close();
      other.disconnect();
    }
  });
});

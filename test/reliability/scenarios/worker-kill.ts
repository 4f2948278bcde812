import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { between, createRandom } from '../../../connectors/seeded-random.js';
import { parseSpoolLine } from '../../../src/logger/spool.js';
import { createPipeline } from '../../../src/pipeline/index.js';
import { createSequenceSink, listProducerGaps } from '../../../src/sinks/sequence/index.js';
import { cleanupPrefix, testPrefix } from '../../helpers/redis.js';
import { RedisProcess } from '../../helpers/redis-process.js';
import { settle } from '../drivers/bus-probe.js';
import type { LoggerChildSettings } from '../drivers/logger-child.js';
import { createSeqRecordingSink } from '../drivers/seq-recording-sink.js';
import { startTcpGate } from '../../helpers/tcp-gate.js';
import { judgeSink, type ProducedEvent } from '../oracle.js';
import { check, type ScenarioResult } from '../scenario-result.js';

const CHILD = fileURLToPath(new URL('../drivers/logger-child.ts', import.meta.url));

/** Options of {@link runWorkerKill}. */
export interface WorkerKillOptions {
  /** The shared Redis, where the recording sink keeps its counts. */
  redis: Redis;
  seed: number;
  /** `up`: killed while Redis answers; `outage`: killed while Redis is unreachable, events in the spool. */
  during: 'up' | 'outage';
  /** Events the first (killed) child means to publish; the restarted child publishes a quarter as many. */
  events: number;
}

/** The child's last counters line. */
interface ChildCounters { accepted: number; published: number; replayed: number; spooled: number; spoolPending: number }

/**
 * Scenario 2: a job worker's ConnectorLogger (a child process) is SIGKILLed at a seeded random
 * point while it publishes, either with Redis up or while Redis is unreachable to it (a TCP
 * gate in front of the test's own redis-server), so that events spill to its spool. A child
 * with the same identity and spool is then started: it replays the spool and publishes more.
 * A pipeline (the real pipeline code, a recording sink and the sequence sink) delivers.
 * Pass: every event whose publish was confirmed (Redis confirmed it before the kill, or it was
 * in the spool file at the kill) is delivered; during an outage the spool is replayed; the
 * restarted child closes cleanly; Jobscope reports no gap (what a SIGKILL loses is the tail of
 * the memory buffer, which no later seq reveals). Events that were in memory, unconfirmed, at the
 * kill are lost by design; the checks say how many, and how many got through anyway.
 */
export async function runWorkerKill(o: WorkerKillOptions): Promise<ScenarioResult> {
  const random = createRandom(o.seed * 7919 + (o.during === 'outage' ? 1 : 0));
  const prefix = testPrefix('rel2');
  const countsKey = `{${prefix}}:t:seqcounts`;
  const dir = mkdtempSync(join(tmpdir(), 'jobscope-rel2-'));
  const server = new RedisProcess();
  await server.start();
  const gate = await startTcpGate(server.port);
  const bus = new Redis(server.url, { maxRetriesPerRequest: null });
  const registry = new Registry();
  const sequence = createSequenceSink({ redis: bus, prefix, registry, logger: pino({ level: 'silent' }), graceMs: 500, checkIntervalMs: 0 });
  const pipeline = createPipeline({
    redis: bus, prefix, sinks: [createSeqRecordingSink(o.redis, countsKey), sequence], metricsRegistry: registry,
    logger: pino({ level: 'silent' }), consumerName: 'c1', batchSize: 100, blockMs: 100, retry: { baseMs: 50, maxMs: 500 }, statsIntervalMs: 500,
  });
  const settings = (statsFile: string, count: number, closeAtEnd: boolean): LoggerChildSettings => ({
    redisUrl: `redis://127.0.0.1:${gate.port}`, prefix, spoolDir: dir, statsFile: join(dir, statsFile), count,
    tickEvents: 5, tickMs: 2, bufferMaxEvents: 50, closeAtEnd,
  });
  try {
    await pipeline.start();
    const first = startChild(settings('first.stats', o.events, false));
    const killAt = Math.floor(o.events * between(random, 0.3, 0.8));
    if (o.during === 'outage') {
      const outageAt = Math.floor(killAt * between(random, 0.2, 0.6));
      await settle(() => lastCounters(first.statsFile).accepted >= outageAt, 20_000, 2);
      await gate.down();
      // Killed once the memory bound (50 events) was passed a few times and events sit in the spool.
      await settle(() => { const c = lastCounters(first.statsFile); return c.accepted >= killAt && c.spoolPending >= 40; }, 20_000, 2);
    } else {
      await settle(() => lastCounters(first.statsFile).accepted >= killAt, 20_000, 2);
    }
    first.child.kill('SIGKILL');
    await first.exited;
    const atKill = lastCounters(first.statsFile);
    const spooled = spoolSeqs(join(dir, 'rel-worker.spool'), first.producer());
    if (o.during === 'outage') await gate.up();

    const second = startChild(settings('second.stats', Math.max(1, Math.floor(o.events / 4)), true));
    const exit = await second.exited;
    const done = /done (true|false) (\{.*\})/.exec(second.output())?.slice(1) ?? [];
    const closedOk = done[0] === 'true' && exit === 0;
    const secondStats = done[1] ? (JSON.parse(done[1]) as ChildCounters) : undefined;

    const p1 = first.producer();
    const p2 = second.producer();
    const confirmed = new Set<number>(spooled.all);
    for (let s = 0; s < atKill.published; s++) confirmed.add(s);
    const read = async () => new Map(Object.entries(await o.redis.hgetall(countsKey)).map(([k, v]) => [k, Number(v)]));
    const expected: ProducedEvent[] = [...confirmed].sort((a, b) => a - b).map((seq) => produced(p1, seq));
    for (let s = 0; s < (secondStats?.accepted ?? 0); s++) expected.push(produced(p2, s));
    await settle(async () => { const seen = await read(); return expected.every((e) => seen.has(e.id)); }, 30_000, 100);
    const seen = await read();

    // What the first child had accepted but not confirmed when it was killed (memory, in flight).
    const lastSeq1 = Math.max(atKill.accepted - 1, ...spooled.all, ...[...seen.keys()].filter((k) => k.startsWith(`${p1}#`)).map((k) => Number(k.slice(p1.length + 1))));
    let unconfirmed = 0;
    let throughAnyway = 0;
    for (let s = 0; s <= lastSeq1; s++) {
      if (confirmed.has(s)) continue;
      unconfirmed++;
      if (seen.has(`${p1}#${s}`)) throughAnyway++;
    }
    const expectedIds = new Set(expected.map((e) => e.id));
    const known = new Set(expectedIds);
    for (let s = 0; s <= lastSeq1; s++) known.add(`${p1}#${s}`);
    const fromNowhere = [...seen.keys()].filter((k) => !known.has(k)).length;
    // The oracle judges the confirmed events; the unconfirmed ones are accounted for in a check.
    const expectedSeen = new Map([...seen].filter(([k]) => expectedIds.has(k)));

    await sequence.checkGaps(Date.now() + 60_000); // settle every open hole now
    const gaps = await listProducerGaps({ redis: bus, prefix });
    const replayed = secondStats?.replayed ?? 0;
    const checks = [
      check('the restarted worker closed cleanly (everything it had reached Redis)', closedOk, `exit ${exit}, close ${done[0] ?? 'no answer'}`),
      check(
        'the spool was replayed on restart',
        replayed >= spooled.pending && (o.during === 'up' || spooled.pending > 0),
        `${spooled.pending} events waiting in the spool at the kill, ${replayed} replayed by the restarted worker`,
      ),
      check('no delivery from nowhere', fromNowhere === 0, `${fromNowhere} deliveries of seqs nobody produced`),
      check('Jobscope reports no gap (a SIGKILL loses only the unconfirmed tail)', gaps.length === 0, gaps.map((g) => `${g.producer} ${g.lost}`).join(', ') || 'none'),
      check(
        'buffered but unconfirmed at the kill (lost by design)',
        true,
        `${unconfirmed} events in memory or in flight: ${throughAnyway} reached Redis anyway, ${unconfirmed - throughAnyway} lost with the process`,
      ),
    ];
    return {
      scenario: `2 SIGKILL job worker, Redis ${o.during === 'up' ? 'up' : 'unreachable (spool)'} (seed ${o.seed})`,
      verdicts: [judgeSink('recording', expected, expectedSeen, new Set())],
      checks,
    };
  } finally {
    await pipeline.close();
    bus.disconnect();
    await gate.close();
    await server.destroy();
    await cleanupPrefix(o.redis, prefix);
    rmSync(dir, { recursive: true, force: true });
  }
}

function produced(producer: string, seq: number): ProducedEvent {
  return { producer, seq, id: `${producer}#${seq}`, type: 'log' };
}

function lastCounters(file: string): ChildCounters {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const lines = text.trimEnd().split('\n');
  const [accepted = 0, published = 0, replayed = 0, spooled = 0, spoolPending = 0] = (lines.at(-1) ?? '').split(' ').map(Number);
  return { accepted, published, replayed, spooled, spoolPending };
}

/**
 * The seqs of `producer` in a spool file: all of them (before the saved read offset Redis had
 * confirmed them; after it they were safe on disk), and how many lay after the offset (pending).
 */
function spoolSeqs(path: string, producer: string): { all: number[]; pending: number } {
  if (!existsSync(path)) return { all: [], pending: 0 };
  const offsetFile = `${path}.offset`;
  const offset = existsSync(offsetFile) ? Number(readFileSync(offsetFile, 'utf8').trim()) || 0 : 0;
  const bytes = readFileSync(path);
  const all: number[] = [];
  let pending = 0;
  let start = 0;
  for (let i = bytes.indexOf(10); i >= 0; start = i + 1, i = bytes.indexOf(10, start)) {
    const e = parseSpoolLine(bytes.subarray(start, i).toString('utf8'));
    if (!e || e.producer !== producer) continue;
    all.push(e.seq);
    if (start >= offset) pending++;
  }
  return { all, pending };
}

interface LoggerChild {
  child: ReturnType<typeof spawn>;
  statsFile: string;
  exited: Promise<number | null>;
  output(): string;
  producer(): string;
}

function startChild(settings: LoggerChildSettings): LoggerChild {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    env: { ...process.env, LOGGER_CHILD: JSON.stringify(settings) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (d: Buffer) => void (out = (out + d.toString()).slice(-100_000));
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child, statsFile: settings.statsFile, exited,
    output: () => out,
    producer: () => /producer (\S+)/.exec(out)?.[1] ?? 'unknown-producer',
  };
}

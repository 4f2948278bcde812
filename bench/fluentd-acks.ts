/**
 * Fluentd sink throughput with acks (the real sink: every event confirmed by Fluentd's ack)
 * beside its anchor: the same records through a bare FluentClient without acks, in the same
 * run, against the same local FluentServer. Both runs end when the server has every record.
 * Prints events/s for each and the ratio (target ≥ 0.8) and writes bench/results/fluentd-acks.json.
 *
 *   node --import tsx bench/fluentd-acks.ts [--quick] [--rounds 5] [events=20000] [batch=1000]  (1000 = the sink's default batch)
 */
import { FluentClient, FluentServer } from '@fluent-org/logger';
import { createEventId, type JobscopeEvent } from '../src/events/index.js';
import { createFluentdSink } from '../src/sinks/fluentd/index.js';
import { fluentdTag, toFluentdRecord } from '../src/sinks/fluentd/fluentd-record.js';
import { positionals, runOptions, sized } from './lib/args.js';
import { makeFigure, writeResult } from './lib/result.js';

const opts = runOptions();
const [totalArg, batchArg] = positionals();
const TOTAL = Number(totalArg ?? sized(opts, 20_000, 5_000));
const BATCH = Number(batchArg ?? 1_000);
const ROUNDS = opts.rounds;

let received = 0;
const server = new (class extends FluentServer {
  protected override onEntry(): void {
    received++;
  }
})({ listenOptions: { port: 0, host: '127.0.0.1' } });
await server.listen();
const port = server.port!;

function makeEvents(n: number): JobscopeEvent[] {
  const now = Date.now();
  return Array.from({ length: n }, (_, i) => ({
    v: 1,
    id: createEventId(),
    time: now + i,
    level: 'info',
    type: 'job.progress',
    message: `step ${i % 30} of 30`,
    source: { machineId: 'bench-machine', workerId: 'worker-1', serviceType: 'comfyui', connectorId: 'comfyui-local' },
    producer: 'bench',
    seq: i,
    trace: { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' },
    job: { id: `job-${i % 100}`, attempt: 1 },
    data: { progress: (i % 30) * 3, step: i % 30, totalSteps: 30 },
    ai: { model: 'flux-dev', provider: 'bfl' },
  }));
}

async function untilReceived(target: number): Promise<void> {
  while (received < target) await new Promise((r) => setImmediate(r));
}

async function withAcks(events: JobscopeEvent[]): Promise<number> {
  const sink = createFluentdSink({ host: '127.0.0.1', port, ackTimeoutMs: 10_000, maxBatchSize: BATCH });
  const signal = new AbortController().signal;
  const start = received;
  const t0 = performance.now();
  for (let i = 0; i < events.length; i += BATCH) {
    const r = await sink.write(events.slice(i, i + BATCH), signal);
    if (r.status !== 'ok') throw new Error(`write failed: ${JSON.stringify(r)}`);
  }
  await untilReceived(start + events.length);
  const ms = performance.now() - t0;
  await sink.close();
  return (events.length / ms) * 1000;
}

async function withoutAcks(events: JobscopeEvent[]): Promise<number> {
  const client = new FluentClient(null, { socket: { host: '127.0.0.1', port }, milliseconds: true });
  await client.connect();
  const start = received;
  const t0 = performance.now();
  for (let i = 0; i < events.length; i += BATCH) {
    await Promise.all(events.slice(i, i + BATCH).map((e) => client.emit(fluentdTag('jobscope', e), toFluentdRecord(e), e.time)));
  }
  await untilReceived(start + events.length);
  const ms = performance.now() - t0;
  await client.shutdown();
  return (events.length / ms) * 1000;
}

// Warm up both paths (JIT, sockets), then alternate the measured runs; report medians (the
// machine is shared, so single runs are noisy).
await withoutAcks(makeEvents(5_000));
await withAcks(makeEvents(5_000));
const acked: number[] = [];
const anchor: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  anchor.push(await withoutAcks(makeEvents(TOTAL)));
  acked.push(await withAcks(makeEvents(TOTAL)));
}
await server.close();

writeResult({
  name: 'fluentd-acks',
  title: 'Fluentd sink with acks vs without',
  quick: opts.quick,
  rounds: ROUNDS,
  settings: { events: TOTAL, batchSize: BATCH },
  figures: [
    makeFigure({
      id: '5',
      label: 'fluentd sink, every chunk acked',
      unit: 'events/s',
      ours: acked,
      anchor,
      anchorWhat: 'bare FluentClient, no acks, same records',
      target: { op: '>=', value: 0.8 },
    }),
  ],
});

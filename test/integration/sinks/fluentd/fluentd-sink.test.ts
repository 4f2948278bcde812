import { EventTime } from '@fluent-org/logger';
import { afterEach, describe, expect, it } from 'vitest';
import { createFluentdSink, type FluentdSinkOptions } from '../../../../src/sinks/fluentd/index.js';
import { createScrubber, withScrubbing } from '../../../../src/sinks/scrub/index.js';
import type { Sink, SinkWriteResult } from '../../../../src/sinks/sink.js';
import type { JobscopeEvent } from '../../../../src/events/index.js';
import { ClosedError } from '../../../../src/errors.js';
import { makeEvent } from '../../../helpers/events.js';
import { startFluentPeer, type FluentPeer } from '../../../helpers/fluent-peer.js';
import { waitFor } from '../../../helpers/redis.js';

type Over = Partial<JobscopeEvent> & Pick<JobscopeEvent, 'type'>;
const signal = () => new AbortController().signal;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(peerOptions: Parameters<typeof startFluentPeer>[0] = {}, sinkOptions: Partial<FluentdSinkOptions> = {}) {
  const peer = await startFluentPeer(peerOptions);
  const sink = createFluentdSink({ host: '127.0.0.1', port: peer.port, ackTimeoutMs: 1_000, connectTimeoutMs: 1_000, ...sinkOptions });
  cleanups.push(() => peer.close(), () => sink.close());
  return { peer, sink };
}

function batch(n: number): JobscopeEvent[] {
  return Array.from({ length: n }, (_, i) => makeEvent({ type: 'log', message: `line ${i}`, job: { id: `job-${i % 7}`, attempt: 1 } } as Over));
}

/** Drives the sink the way the pipeline does: resend what is not confirmed until all is. */
async function deliver(sink: Sink, events: JobscopeEvent[], maxWrites = 5): Promise<SinkWriteResult[]> {
  const results: SinkWriteResult[] = [];
  let pending = events;
  while (pending.length > 0 && results.length < maxWrites) {
    const r = await sink.write(pending, signal());
    results.push(r);
    const done = new Set([...(r.status === 'retry' ? (r.confirmedIds ?? []) : pending.map((e) => e.id)), ...(r.rejected ?? []).map((x) => x.eventId)]);
    pending = pending.filter((e) => !done.has(e.id));
  }
  expect(pending).toHaveLength(0);
  return results;
}

function expectAllArrived(peer: FluentPeer, events: JobscopeEvent[]): number {
  const counts = peer.countsById();
  for (const e of events) expect(counts.get(e.id), `event ${e.id}`).toBeGreaterThanOrEqual(1);
  return [...counts.values()].reduce((a, n) => a + n - 1, 0); // duplicates
}

describe('fluentd sink', () => {
  it('delivers flat records with every field, tagged and timed from the event', async () => {
    const { peer, sink } = await setup({}, { tagPrefix: 'acme' });
    const failed = makeEvent({
      type: 'job.failed',
      time: 1_700_000_000_123,
      level: 'error',
      message: 'job failed',
      job: { id: 'job-9', attempt: 2, queue: 'images' },
      data: { durationMs: 900, willRetry: false, error: { type: 'TimeoutError', category: 'timeout', message: 'took too long', stack: 'at x' } },
      ai: { model: 'flux-dev', provider: 'bfl', inputTokens: 12, costUsd: 0.02 },
      attrs: { region: 'eu' },
    } as Over);
    const progress = makeEvent({ type: 'job.progress', data: { progress: 40, step: 4, totalSteps: 10 } } as Over);
    expect(await sink.write([failed, progress], signal())).toEqual({ status: 'ok' });
    expect(peer.records).toHaveLength(2);

    const r = peer.records.find((x) => x.record.event_id === failed.id)!;
    expect(r.tag).toBe('acme.comfyui.job.failed');
    expect(r.time).toBeInstanceOf(EventTime);
    const t = r.time as EventTime;
    expect(t.epoch * 1000 + Math.round(t.nano / 1e6)).toBe(1_700_000_000_123);
    expect(r.record).toMatchObject({
      event_id: failed.id,
      event_type: 'job.failed',
      machine_id: 'machine-1',
      worker_id: 'worker-1',
      service_type: 'comfyui',
      connector_id: 'comfyui-local',
      job_id: 'job-9',
      attempt: 2,
      queue: 'images',
      trace_id: failed.trace!.traceId,
      span_id: failed.trace!.spanId,
      level: 'error',
      message: 'job failed',
      duration_ms: 900,
      will_retry: false,
      error_type: 'TimeoutError',
      error_category: 'timeout',
      error_message: 'took too long',
      error_stack: 'at x',
      'gen_ai.request.model': 'flux-dev',
      'gen_ai.provider.name': 'bfl',
      'gen_ai.usage.input_tokens': 12,
      'jobscope.ai.cost_usd': 0.02,
      'attrs.region': 'eu',
    });
    const p = peer.records.find((x) => x.record.event_id === progress.id)!;
    expect(p.tag).toBe('acme.comfyui.job.progress');
    expect(p.record).toMatchObject({ progress: 40, step: 4, total_steps: 10 });
    expect(await sink.health()).toMatchObject({ ok: true });
  });

  it('returns retry while Fluentd is down, and delivers everything once it is back', async () => {
    const { peer, sink } = await setup();
    await peer.stop();
    const events = batch(50);
    const down = await sink.write(events, signal());
    expect(down.status).toBe('retry');
    expect(down.status === 'retry' && down.reason).toMatch(/Fluentd at 127\.0\.0\.1:\d+.*ECONNREFUSED/);
    expect((await sink.health()).ok).toBe(false);
    expect(peer.records).toHaveLength(0);

    await peer.start();
    await deliver(sink, events);
    expect(expectAllArrived(peer, events)).toBe(0);
  });

  it('retries a chunk whose ack never comes, then resends it: none lost, duplicates counted', async () => {
    const { peer, sink } = await setup({}, { ackTimeoutMs: 300 });
    const events = batch(40);
    peer.withholdAcks(true);
    const r = await sink.write(events, signal());
    expect(r.status).toBe('retry');
    expect(r.status === 'retry' && r.reason).toMatch(/did not acknowledge/);
    expect(r.status === 'retry' && (r.confirmedIds ?? []).length).toBe(0);
    await waitFor(() => peer.records.length >= 40, { what: 'unacked records at the server' });

    peer.withholdAcks(false);
    await deliver(sink, events);
    const duplicates = expectAllArrived(peer, events);
    expect(duplicates).toBe(40); // the unacked first send, exactly once more
  });

  it('retries when the connection is cut mid-chunk, then resends: none lost', async () => {
    const { peer, sink } = await setup();
    const warm = batch(1);
    await deliver(sink, warm);
    const events = batch(200);
    peer.cutAfterBytes(700);
    const r = await sink.write(events, signal());
    expect(r.status).toBe('retry');
    expect(peer.cuts).toBe(1);
    expect(r.status === 'retry' && (r.confirmedIds ?? []).length).toBe(0);
    expect(peer.records).toHaveLength(1); // the half-sent chunk was never decoded: only the warm-up record
    await deliver(sink, events);
    const duplicates = expectAllArrived(peer, events);
    expect(duplicates).toBeLessThan(events.length);
  });

  it('authenticates with the shared key', async () => {
    const { peer, sink } = await setup({ sharedKey: 'k3y' }, { sharedKey: 'k3y', clientHostname: 'pipeline.test' });
    const events = batch(5);
    expect(await sink.write(events, signal())).toEqual({ status: 'ok' });
    expect(expectAllArrived(peer, events)).toBe(0);
  });

  it('fails with a clear error on a wrong shared key, and sends nothing', async () => {
    const { peer, sink } = await setup({ sharedKey: 'right' }, { sharedKey: 'wrong', clientHostname: 'pipeline.test' });
    const r = await sink.write(batch(3), signal());
    expect(r.status).toBe('retry');
    expect(r.status === 'retry' && r.reason).toMatch(/rejected the shared key.*FLUENTD_SHARED_KEY/);
    const health = await sink.health();
    expect(health.ok).toBe(false);
    expect(health.detail).toMatch(/shared key/);
    expect(peer.records).toHaveLength(0);
  });

  it('sends no scrubbed value to Fluentd when wrapped with the scrubber', async () => {
    const { peer, sink: raw } = await setup();
    const sink = withScrubbing(raw, createScrubber({ fields: ['prompt'] }));
    const secrets = ['alice@example.com', 'sk-abcdefghijklmnopqrstuv', 'hunter2', 'a very private prompt', 'AKIAIOSFODNN7EXAMPLE'];
    const e = makeEvent({
      type: 'job.failed',
      message: 'user alice@example.com failed',
      data: { durationMs: 5, error: { type: 'AuthError', category: 'unknown', message: 'bad key sk-abcdefghijklmnopqrstuv', stack: 'password=hunter2' } },
      attrs: { prompt: 'a very private prompt', note: 'AKIAIOSFODNN7EXAMPLE' },
    } as Over);
    expect(sink.name).toBe('fluentd');
    expect(await sink.write([e], signal())).toEqual({ status: 'ok' });
    const body = JSON.stringify(peer.records);
    expect(peer.records).toHaveLength(1);
    for (const s of secrets) expect(body).not.toContain(s);
    expect(peer.records[0]!.record.event_id).toBe(e.id);
  });

  it('closes idempotently and refuses writes afterwards', async () => {
    const { sink } = await setup();
    await sink.write(batch(1), signal());
    await Promise.all([sink.close(), sink.close()]);
    await expect(sink.write(batch(1), signal())).rejects.toBeInstanceOf(ClosedError);
  });
});

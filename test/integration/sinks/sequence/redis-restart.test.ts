import { Redis } from 'ioredis';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectorLogger } from '../../../../src/logger/connector-logger.js';
import { createPipeline, type Pipeline } from '../../../../src/pipeline/index.js';
import { createSequenceSink, listProducerGaps, type SequenceSink } from '../../../../src/sinks/sequence/index.js';
import { metricValue } from '../../../helpers/pipeline-fixtures.js';
import { testPrefix, waitFor } from '../../../helpers/redis.js';
import { RedisProcess } from '../../../helpers/redis-process.js';

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('sequence sink across a Redis restart without persistence', () => {
  it('reports the events Redis lost, from the sequence numbers of a logger that kept publishing', async () => {
    const server = new RedisProcess();
    await server.start();
    cleanups.push(() => server.destroy());
    const prefix = testPrefix('seqrs');
    const bus = new Redis(server.url, { maxRetriesPerRequest: null });
    bus.on('error', () => undefined);
    cleanups.push(() => bus.disconnect());
    const registry = new Registry();
    const sink: SequenceSink = createSequenceSink({ redis: bus, prefix, registry, logger: pino({ level: 'silent' }), graceMs: 300, checkIntervalMs: 100 });
    const pipeline: Pipeline = createPipeline({
      redis: bus, prefix, sinks: [sink], metricsRegistry: registry, logger: pino({ level: 'silent' }), consumerName: 'c1',
      batchSize: 50, blockMs: 100, retry: { baseMs: 50, maxMs: 300 }, statsIntervalMs: 200,
    });
    await pipeline.start();
    cleanups.push(() => pipeline.close());
    const logger = new ConnectorLogger({
      machineId: 'm-rs', workerId: 'w-rs', serviceType: 'simulated', connectorId: 'sim-rs',
      redis: server.url, prefix, stdout: false, level: 'silent', spoolMaxBytes: 0,
    });
    cleanups.push(() => logger.close(1000));

    for (let i = 0; i < 200; i++) logger.log('info', `before ${i}`);
    expect(await logger.flush(10_000)).toBe(true);
    await waitFor(() => sink.stats().counted >= 200, { what: 'the sequence sink to count the first 200 events' });

    await server.stop('SIGKILL');
    await server.start(); // empty: no AOF, no RDB
    for (let i = 0; i < 100; i++) logger.log('info', `after ${i}`);
    expect(await logger.flush(15_000)).toBe(true);

    const gaps = await waitFor(async () => {
      const g = await listProducerGaps({ redis: bus, prefix });
      return g.length > 0 ? g : undefined;
    }, { what: 'the gap to be reported' });
    expect(gaps).toHaveLength(1);
    expect(gaps[0]).toMatchObject({ producer: logger.producer, path: 'm-rs/w-rs/simulated/sim-rs', lost: 200, highestSeq: 299, gaps: [{ from: 0, to: 199 }] });
    expect(await metricValue(registry, 'jobscope_producer_seq_gaps_total', { service_type: 'simulated' })).toBe(200);
    expect(pipeline.status().state).toBe('running');
  });
});

import { describe, expect, it } from 'vitest';
import { renderChecks } from '../../../src/cli/commands/doctor.js';
import { checkWorkers, parseInfo, versionAtLeast } from '../../../src/cli/doctor-checks.js';
import { sentryOrigin } from '../../../src/cli/doctor-sink-checks.js';
import type { WorkerRecord } from '../../../src/status/types.js';

const worker = (workerId: string, liveness: WorkerRecord['liveness']): WorkerRecord => ({
  machineId: 'm1',
  workerId,
  serviceType: 's',
  connectorId: 'c',
  currentJobs: [],
  liveness,
});

describe('doctor checks', () => {
  it('compares versions and parses INFO', () => {
    expect([versionAtLeast('7.0.15', '6.2'), versionAtLeast('6.2.0', '6.2'), versionAtLeast('6.0.9', '6.2')]).toEqual([true, true, false]);
    expect(parseInfo('# Server\r\nredis_version:7.2.4\r\naof_enabled:0\r\n').get('redis_version')).toBe('7.2.4');
    expect(sentryOrigin('https://abc@o1.ingest.sentry.io/42')).toBe('https://o1.ingest.sentry.io/');
  });

  it('warns about dead workers by name, passes live ones', async () => {
    const dead = await checkWorkers({ listWorkers: async () => [worker('w1', 'busy'), worker('w2', 'dead')] });
    expect(dead).toMatchObject({ status: 'warn' });
    expect(dead.detail).toContain('1 busy, 0 idle, 1 dead, 0 stopped; no heartbeat from m1/w2');
    expect(await checkWorkers({ listWorkers: async () => [worker('w1', 'idle')] })).toMatchObject({ status: 'pass' });
  });

  it('renders one line per check and a summary', () => {
    const text = renderChecks([
      { status: 'pass', name: 'redis', detail: 'ok' },
      { status: 'fail', name: 'fluentd', detail: 'down: start it' },
    ]);
    expect(text).toBe('PASS  redis    ok\nFAIL  fluentd  down: start it\n\n1 passed, 0 warnings, 1 failed\n');
  });
});

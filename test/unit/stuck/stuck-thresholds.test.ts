import { describe, expect, it } from 'vitest';
import type { JobRecord } from '../../../src/status/types.js';
import { createStuckThresholds } from '../../../src/stuck/stuck-thresholds.js';

const done = (serviceType: string, durationMs: number): JobRecord => ({
  id: `${serviceType}-${durationMs}-${Math.random()}`, state: 'completed', attempt: 1, machineId: 'm', workerId: 'w', serviceType, connectorId: 'c',
  updatedAt: 1, durationMs, lastEventId: 'e', lastEventType: 'job.completed', eventCount: 3,
});

describe('stuck thresholds', () => {
  it('uses the configured value, else a learned one, else the default', () => {
    const t = createStuckThresholds({ defaultMs: 600_000, byService: { openai: 120_000 }, minLearnedMs: 0 });
    const comfy = Array.from({ length: 100 }, (_, i) => done('comfyui', (i + 1) * 1000)); // p99 = 99 s
    t.learn([...comfy, ...Array.from({ length: 30 }, () => done('openai', 1000))]);
    expect(t.forService('openai')).toBe(120_000);
    expect(t.sourceOf('openai')).toBe('configured');
    expect(t.forService('comfyui')).toBe(297_000);
    expect(t.sourceOf('comfyui')).toBe('learned');
    expect(t.forService('other')).toBe(600_000);
    expect(t.all()).toEqual({ default: 600_000, comfyui: 297_000, openai: 120_000 });
  });

  it('learns nothing below 20 completed jobs, and floors what it learns', () => {
    const t = createStuckThresholds({ defaultMs: 600_000 });
    t.learn(Array.from({ length: 19 }, () => done('few', 1000)));
    expect(t.sourceOf('few')).toBe('default');
    t.learn(Array.from({ length: 20 }, () => done('fast', 10)));
    expect(t.forService('fast')).toBe(30_000);
  });
});

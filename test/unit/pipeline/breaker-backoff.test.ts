import { describe, expect, it } from 'vitest';
import { backoffDelayMs } from '../../../src/pipeline/backoff.js';
import { createCircuitBreaker, type BreakerState } from '../../../src/pipeline/circuit-breaker.js';

describe('circuit breaker', () => {
  it('opens after the threshold, half-opens after openMs, closes on success, reopens on a failed probe', () => {
    let now = 0;
    const changes: BreakerState[] = [];
    const b = createCircuitBreaker({ failureThreshold: 3, openMs: 1000, now: () => now, onChange: (s) => changes.push(s) });
    b.failure();
    b.failure();
    expect(b.state()).toBe('closed');
    b.failure();
    expect(b.state()).toBe('open');
    expect(b.waitMs()).toBe(1000);
    now = 999;
    expect(b.state()).toBe('open');
    now = 1000;
    expect(b.state()).toBe('half-open');
    b.failure(); // the probe failed
    expect(b.state()).toBe('open');
    now = 2000;
    expect(b.state()).toBe('half-open');
    b.success();
    expect(b.state()).toBe('closed');
    expect(changes).toEqual(['open', 'half-open', 'open', 'half-open', 'closed']);
  });

  it('a success resets the failure count', () => {
    const b = createCircuitBreaker({ failureThreshold: 2 });
    b.failure();
    b.success();
    b.failure();
    expect(b.state()).toBe('closed');
  });
});

describe('backoff', () => {
  it('grows exponentially with jitter between half and all of the ceiling, capped at maxMs', () => {
    expect(backoffDelayMs(1, { baseMs: 100, maxMs: 1000 }, 0, () => 0)).toBe(50);
    expect(backoffDelayMs(1, { baseMs: 100, maxMs: 1000 }, 0, () => 1)).toBe(100);
    expect(backoffDelayMs(3, { baseMs: 100, maxMs: 1000 }, 0, () => 1)).toBe(400);
    expect(backoffDelayMs(20, { baseMs: 100, maxMs: 1000 }, 0, () => 1)).toBe(1000);
  });
  it('honors retryAfterMs', () => {
    expect(backoffDelayMs(1, { baseMs: 100 }, 5000, () => 0)).toBe(5000);
  });
});

import { describe, expect, it } from 'vitest';
import { createRateLimitedWarning } from '../../../src/logger/rate-limited-warning.js';

describe('createRateLimitedWarning', () => {
  it('says a key at most once per interval, with how many were held back', () => {
    let t = 0;
    const said: [string, Record<string, unknown>][] = [];
    const warn = createRateLimitedWarning({ sink: (m, f) => said.push([m, f]), intervalMs: 1000, now: () => t });
    for (let i = 0; i < 5; i++) warn('redis', `down ${i}`);
    warn('other', 'else');
    t = 1000;
    warn('redis', 'down again');
    expect(said).toEqual([
      ['down 0', {}],
      ['else', {}],
      ['down again', { suppressed: 4 }],
    ]);
  });

  it('remembers at most maxKeys keys: a flood of distinct keys cannot grow it, the oldest is forgotten', () => {
    let t = 0;
    const said: string[] = [];
    const warn = createRateLimitedWarning({ sink: (m) => said.push(m), intervalMs: 1000, now: () => t, maxKeys: 3 });
    for (const k of ['a', 'b', 'c', 'd']) warn(k, k);
    t = 10;
    // 'a' was forgotten when 'd' came: said again at once; 'd' is still held back.
    warn('a', 'a again');
    warn('d', 'd again');
    expect(said).toEqual(['a', 'b', 'c', 'd', 'a again']);
  });

  it('forgets the key said least recently, not the busiest one', () => {
    let t = 0;
    const said: string[] = [];
    const warn = createRateLimitedWarning({ sink: (m) => said.push(m), intervalMs: 1000, now: () => t, maxKeys: 3 });
    for (const k of ['busy', 'b', 'c']) warn(k, k);
    t = 1000;
    warn('busy', 'busy again');
    warn('d', 'd');
    t = 1010;
    // 'b' went for 'd'; 'busy' is still remembered, so it stays held back.
    warn('busy', 'busy a third time');
    warn('b', 'b again');
    expect(said).toEqual(['busy', 'b', 'c', 'busy again', 'd', 'b again']);
  });

  it('a sink that throws does not reach the caller', () => {
    const warn = createRateLimitedWarning({
      sink: () => {
        throw new Error('broken destination');
      },
    });
    expect(() => warn('k', 'm')).not.toThrow();
  });
});

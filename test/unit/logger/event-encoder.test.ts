import { describe, expect, it } from 'vitest';
import { createEventId } from '../../../src/events/index.js';
import { attemptMembers, flatObjectJson, millisText, ownMembers, plainOwnMembersLength, quote } from '../../../src/logger/event-encoder.js';

const strings = ['', 'plain', 'with "quotes" and \\ backslash', 'tab\tnew\nline\u0000\u001f', 'é ü 日本語', '😀 emoji', 'lone \ud800 high', 'lone \udc00 low', '\u2028\u2029', '</script>'];

describe('event encoder', () => {
  it('quotes strings exactly as JSON.stringify does', () => {
    for (const s of strings) expect(quote(s)).toBe(JSON.stringify(s));
  });

  it('writes small objects exactly as JSON.stringify does', () => {
    const objects: object[] = [
      {},
      { a: 1, b: -0, c: 1.5e-7, d: 1e21, e: Number.NaN, f: Infinity, g: undefined, h: null, i: true, j: false },
      { nested: { x: [1, 'two', { y: null }] }, list: ['a', 'b'] },
      { 'key with space': 1, 'quote"key': 2, 'é': 3, '': 4, 'a.b-c_d': 5 },
      Object.fromEntries(strings.map((s, i) => [`k${i}`, s])),
      { fn: () => 1, sym: Symbol('s'), keep: 1 },
    ];
    for (const o of objects) expect(flatObjectJson(o)).toBe(JSON.stringify(o));
  });

  it('writes a job attempt and an event that parse to what JSON.stringify would give', () => {
    const job = { id: 'job "1" é', attempt: 2, queue: 'q', name: 'n', sessionId: 's' };
    const trace = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', parentSpanId: '00f067aa0ba902b8', sampled: false };
    expect(JSON.parse(`{${attemptMembers(job, trace)}}`)).toEqual({ job, trace });
    const own = ownMembers('019a1b2c-3d4e-7f60-8a1b-2c3d4e5f6a7b', 1_800_000_000_123, 'warn', 'job.retrying', 7, 'msg\n"x"', { model: 'm', inputTokens: 3 }, { k: 'v' }, { nextAttempt: 2 });
    expect(JSON.parse(`{${own}}`)).toEqual({
      id: '019a1b2c-3d4e-7f60-8a1b-2c3d4e5f6a7b',
      time: 1_800_000_000_123,
      level: 'warn',
      type: 'job.retrying',
      seq: 7,
      message: 'msg\n"x"',
      ai: { model: 'm', inputTokens: 3 },
      attrs: { k: 'v' },
      data: { nextAttempt: 2 },
    });
  });
});

describe('millisText', () => {
  it('writes milliseconds to the microsecond as String() would', () => {
    for (const ms of [0, 0.001, 0.023, 0.5, 1, 12.34, 999.999, 1000, 123456.789, 86_400_000.001]) {
      expect(millisText(ms)).toBe(String(ms));
      expect(JSON.parse(millisText(ms))).toBe(ms);
    }
    expect(millisText(0.0004)).toBe('0');
    expect(millisText(1.23456)).toBe('1.235');
  });

  it('counts the length of an event\'s own members without writing them', () => {
    const id = createEventId(1_800_000_000_000);
    for (const [time, seq, data] of [
      [1_800_000_000_000, 0, '{}'],
      [1_800_000_000_123, 9, '{"queueWaitMs":14}'],
      [1_700_000_000_000, 10, '{"durationMs":0.5}'],
      [1, 1_234_567, '{"a":"é"}'],
    ] as const) {
      for (const type of ['job.received', 'job.completed', 'log'] as const) {
        expect(plainOwnMembersLength(time, 'info', type, seq, data)).toBe(ownMembers(id, time, 'info', type, seq, undefined, undefined, undefined, data).length);
      }
    }
  });
});

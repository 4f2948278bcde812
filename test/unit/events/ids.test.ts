import { describe, expect, it } from 'vitest';
import {
  classifyError,
  createEventId,
  EVENT_ID_PATTERN,
  eventIdTime,
  formatTraceparent,
  parseTraceparent,
  shardFor,
  toErrorInfo,
} from '../../../src/events/index.js';

describe('event ids', () => {
  it('are UUIDv7, unique and strictly increasing within a process', () => {
    const ids = Array.from({ length: 20_000 }, () => createEventId());
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(EVENT_ID_PATTERN);
    const sorted = [...ids].sort();
    expect(sorted).toEqual(ids);
  });
  it('encode their creation time', () => {
    const now = Date.now() + 10_000; // ahead of any id made so far in this process
    expect(eventIdTime(createEventId(now))).toBe(now);
  });
});

describe('traceparent', () => {
  it('parses and formats W3C trace context', () => {
    const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    expect(parseTraceparent(tp)).toEqual({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', sampled: true });
    expect(formatTraceparent('4bf92f3577b34da6a3ce929d0e0e4736', '00f067aa0ba902b7')).toBe(tp);
  });
  it('ignores malformed headers instead of failing', () => {
    for (const bad of ['', 'junk', '00-00000000000000000000000000000000-00f067aa0ba902b7-01', 'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01']) {
      expect(parseTraceparent(bad)).toBeUndefined();
    }
  });
});

describe('error classification', () => {
  it.each([
    ['TimeoutError', 'operation timed out after 30s', 'timeout'],
    ['Error', 'CUDA out of memory. Tried to allocate 2.00 GiB', 'out_of_memory'],
    ['FetchError', 'connect ECONNREFUSED 127.0.0.1:8188', 'network'],
    ['APIError', '429 Too Many Requests', 'rate_limit'],
    ['Error', 'model sdxl-turbo not found in checkpoints', 'model'],
    ['ZodError', 'prompt is required', 'validation'],
    ['AbortError', 'The operation was aborted', 'cancelled'],
    ['Error', 'something odd', 'unknown'],
  ])('%s "%s" is %s', (type, message, category) => {
    expect(classifyError(type, message)).toBe(category);
  });
  it('normalizes Errors, plain objects and strings', () => {
    const err = Object.assign(new RangeError('socket hang up'), { code: 'ECONNRESET' });
    expect(toErrorInfo(err)).toMatchObject({ type: 'RangeError', category: 'network', code: 'ECONNRESET', message: 'socket hang up' });
    expect(toErrorInfo({ type: 'OOM', message: 'x', stack: 's' })).toMatchObject({ type: 'OOM', category: 'out_of_memory', stack: 's' });
    expect(toErrorInfo('plain')).toMatchObject({ type: 'Error', message: 'plain', category: 'unknown' });
    expect(toErrorInfo({ message: 'x'.repeat(20_000) }).message).toHaveLength(8192);
  });
});

describe('sharding', () => {
  it('keeps a job on one shard and spreads jobs across shards', () => {
    expect(shardFor('job-1', 4)).toBe(shardFor('job-1', 4));
    const used = new Set(Array.from({ length: 100 }, (_, i) => shardFor(`job-${i}`, 4)));
    expect(used.size).toBe(4);
    expect(shardFor('anything', 1)).toBe(0);
  });
});

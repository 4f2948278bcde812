import { describe, expect, it } from 'vitest';
import { decodeEntry, encodeEntry, EVENT_TYPES, eventSchema } from '../../../src/events/index.js';
import { makeEvent } from '../../helpers/events.js';

describe('event schema v1', () => {
  it.each(EVENT_TYPES)('accepts a well-formed %s event', (type) => {
    const event = makeEvent({ type });
    const r = eventSchema.safeParse(event);
    expect(r.success, JSON.stringify(r.error?.issues)).toBe(true);
  });

  it('round-trips every type through a stream entry', () => {
    for (const type of EVENT_TYPES) {
      const event = makeEvent({ type });
      const r = decodeEntry(encodeEntry(event));
      expect(r).toEqual({ ok: true, event });
    }
  });

  const cases: [string, (e: Record<string, unknown>) => void, RegExp][] = [
    ['a job event without a job', (e) => delete e.job, /job/],
    ['an unknown type', (e) => (e.type = 'job.exploded'), /type/],
    ['a bad event id', (e) => (e.id = 'not-a-uuid'), /id: must be a lower-case UUIDv7/],
    ['a negative sequence number', (e) => (e.seq = -1), /seq/],
    ['progress over 100', (e) => ((e.data as { progress: number }).progress = 140), /data\.progress/],
    ['a trace id of the wrong length', (e) => ((e.trace as { traceId: string }).traceId = 'abc'), /trace\.traceId: must be 32/],
    ['a machine id with a space', (e) => ((e.source as { machineId: string }).machineId = 'my box'), /source\.machineId/],
    ['attempt zero', (e) => ((e.job as { attempt: number }).attempt = 0), /job\.attempt/],
    ['a string duration', (e) => ((e.data as { durationMs: unknown }).durationMs = '12'), /data\.durationMs/],
  ];
  it.each(cases)('rejects %s, naming the field', (_name, mutate, message) => {
    const type = _name.includes('progress') ? 'job.progress' : _name.includes('duration') ? 'job.completed' : 'job.started';
    const event = structuredClone(makeEvent({ type })) as unknown as Record<string, unknown>;
    mutate(event);
    const r = decodeEntry(['v', '1', 'e', JSON.stringify(event)]);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(message);
  });
});

describe('stream entry codec', () => {
  it('refuses an unknown schema version before parsing, and says what to do', () => {
    const r = decodeEntry(['v', '2', 'e', '{}']);
    expect(r).toMatchObject({ ok: false, reason: expect.stringMatching(/unsupported schema version "2".*upgrade/) });
  });
  it('refuses entries without a version or a payload', () => {
    expect(decodeEntry(['e', '{}'])).toMatchObject({ ok: false, reason: expect.stringMatching(/missing field "v"/) });
    expect(decodeEntry(['v', '1'])).toMatchObject({ ok: false, reason: expect.stringMatching(/missing field "e"/) });
  });
  it('refuses bad JSON with the parser message', () => {
    const r = decodeEntry(['v', '1', 'e', '{"id": ']);
    expect(r).toMatchObject({ ok: false, reason: expect.stringMatching(/not valid JSON/) });
  });
  it('refuses invalid UTF-8 when given raw bytes', () => {
    const r = decodeEntry([Buffer.from('v'), Buffer.from('1'), Buffer.from('e'), Buffer.from([0x7b, 0xff, 0xfe, 0x7d])]);
    expect(r).toMatchObject({ ok: false, reason: 'field "e" is not valid UTF-8' });
  });
  it('refuses a huge payload without parsing it', () => {
    const r = decodeEntry(['v', '1', 'e', 'x'.repeat(300_000)]);
    expect(r).toMatchObject({ ok: false, reason: expect.stringMatching(/over the 262144-byte limit/) });
  });
  it('keeps the event id of a payload that fails validation', () => {
    const event = makeEvent({ type: 'job.started' }) as unknown as Record<string, unknown>;
    event.level = 'loud';
    const r = decodeEntry(['v', '1', 'e', JSON.stringify(event)]);
    expect(r).toMatchObject({ ok: false, eventId: event.id, reason: expect.stringMatching(/level/) });
  });
});

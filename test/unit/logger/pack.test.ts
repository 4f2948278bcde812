import { describe, expect, it } from 'vitest';
import { decodeEntryEvents, type JobscopeEvent } from '../../../src/events/index.js';
import { wholeJson, type PendingEntry } from '../../../src/logger/event-buffer.js';
import { attemptMembers, ownMembers, sharedMembers } from '../../../src/logger/event-encoder.js';
import { PACK_MAX_CHARS, PACK_MAX_EVENTS, packEntries, PackWriter, unpack, type Pack } from '../../../src/logger/pack.js';

const shared = sharedMembers({ machineId: 'm-1', workerId: 'w-1', serviceType: 'comfyui', connectorId: 'c-1' }, 'c-1-producer');
const attemptOf = (job: string) => attemptMembers({ id: job, attempt: 1, queue: 'images' }, { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' });

/** An event as the logger encodes it: own members per call, the attempt's and the producer's shared. */
function entry(seq: number, job: string | undefined, opts: { stream?: string; message?: string } = {}): PendingEntry {
  const id = `019a1b2c-3d4e-7f60-8a1b-${seq.toString(16).padStart(12, '0')}`;
  const json = ownMembers(id, 1_800_000_000_000 + seq, 'info', job ? 'job.progress' : 'log', seq, opts.message, undefined, undefined, job ? { progress: seq % 100 } : { kind: 'log' });
  const attempt = job === undefined ? undefined : attemptOf(job);
  return { stream: opts.stream ?? '{p}:events', json, shared, attempt, bytes: json.length, producer: 'c-1-producer', seq };
}

/** What a reader gets from a pack written as a stream entry. */
function read(p: Pack): JobscopeEvent[] {
  const fields = p.shared === '' ? ['v', '1', 'b', p.payload] : ['v', '1', 's', p.shared, 'b', p.payload];
  const r = decodeEntryEvents(fields);
  if (!r.ok) throw new Error(r.reason);
  return r.parts.map((x) => {
    if (!x.ok) throw new Error(x.reason);
    return x.event;
  });
}

const whole = (e: PendingEntry) => JSON.parse(wholeJson(e)) as JobscopeEvent;

describe('packs', () => {
  it('read back as exactly the events packed, in order, with a job written once per pack', () => {
    const entries = [entry(0, 'job-a'), entry(1, 'job-b'), entry(2, 'job-a'), entry(3, undefined), entry(4, 'job-a', { message: 'é "quoted"\n' })];
    const [pack] = packEntries(entries);
    expect(pack).toMatchObject({ firstSeq: 0, count: 5, seqs: undefined, shared: `{${shared}}` });
    expect(read(pack!)).toEqual(entries.map(whole));
    const text = pack!.payload.toString();
    expect(text.split('"id":"job-a"')).toHaveLength(2); // job-a's job and trace appear once
    expect(text).toContain('"@":0');
    // A fraction of the bytes of the same events written whole.
    expect(text.length).toBeLessThan(0.6 * entries.map(wholeJson).join('\n').length);
  });

  it(`hold at most ${PACK_MAX_EVENTS} events, and split where the stream or producer changes`, () => {
    const many = Array.from({ length: PACK_MAX_EVENTS + 5 }, (_, i) => entry(i, `job-${i % 3}`));
    const other = entry(PACK_MAX_EVENTS + 5, 'job-x', { stream: '{p}:s1' });
    const packs = packEntries([...many, other]);
    expect(packs.map((p) => [p.count, p.stream])).toEqual([
      [PACK_MAX_EVENTS, '{p}:events'],
      [5, '{p}:events'],
      [1, '{p}:s1'],
    ]);
    expect(packs.flatMap(read)).toEqual([...many, other].map(whole));
  });

  it('list their seqs when they are not consecutive (an event dropped in between)', () => {
    const [pack] = packEntries([entry(7, 'j'), entry(8, 'j'), entry(11, 'j')]);
    expect(pack).toMatchObject({ firstSeq: 7, seqs: [7, 8, 11], count: 3 });
  });

  it('put an event larger than the pack bound alone', () => {
    const big = entry(1, 'j', { message: 'x'.repeat(PACK_MAX_CHARS) });
    const packs = packEntries([entry(0, 'j'), big, entry(2, 'j')]);
    expect(packs.map((p) => p.count)).toEqual([1, 1, 1]);
  });

  it('unpack into whole events with their seqs, for the spool', () => {
    const entries = [entry(3, 'job-a'), entry(4, 'job-a'), entry(5, undefined)];
    const [pack] = packEntries(entries);
    const back = unpack(pack!);
    expect(back.map((e) => [e.seq, e.shared, e.stream])).toEqual([
      [3, undefined, '{p}:events'],
      [4, undefined, '{p}:events'],
      [5, undefined, '{p}:events'],
    ]);
    expect(back.map((e) => JSON.parse(e.json) as unknown)).toEqual(entries.map(whole));
    // Whole events pack again into lines that need nothing from the entry.
    const [again] = packEntries(back);
    expect(again!.shared).toBe('');
    expect(read(again!)).toEqual(entries.map(whole));
  });

  it('take runs of lines written by the caller beside single events, counting events, not runs', () => {
    const w = new PackWriter();
    const closed: Pack[] = [];
    const keep = (p: Pack | undefined) => void (p && closed.push(p));
    const single = [entry(0, 'job-a'), entry(1, undefined)];
    for (const e of single) keep(w.add(e));
    // Two events of job-b as one run: the first line carries the attempt, the second refers to it.
    const run = [entry(2, 'job-b'), entry(3, 'job-b')];
    const line = (e: PendingEntry, attempt: string) => `{${e.json},${attempt}}`;
    const text = (first: number, es: PendingEntry[]) => `${line(es[0]!, es[0]!.attempt!)}\n${line(es[1]!, `"@":${first}`)}`;
    keep(w.reserve('{p}:events', 'c-1-producer', shared, 2, 1000));
    expect(w.count).toBe(2);
    w.appendLines('{p}:events', 'c-1-producer', shared, 2, 2, text(w.count, run), 100);
    // A run after a dropped event (seq 4): the seqs are listed.
    const later = [entry(5, 'job-c'), entry(6, 'job-c')];
    keep(w.reserve('{p}:events', 'c-1-producer', shared, 2, 1000));
    w.appendLines('{p}:events', 'c-1-producer', shared, 5, 2, text(w.count, later), 100);
    expect(w.count).toBe(6);
    const generation = w.generation;
    keep(w.close());
    expect(w.generation).toBe(generation + 1);
    expect(closed).toHaveLength(1);
    expect(closed[0]).toMatchObject({ firstSeq: 0, count: 6, seqs: [0, 1, 2, 3, 5, 6], bytes: single[0]!.bytes + single[1]!.bytes + 200 });
    expect(read(closed[0]!)).toEqual([...single, ...run, ...later].map(whole));
    expect(unpack(closed[0]!).map((e) => e.seq)).toEqual([0, 1, 2, 3, 5, 6]);
  });

  it(`close the open pack to make room for a run that would pass ${PACK_MAX_EVENTS} events or change stream`, () => {
    const w = new PackWriter();
    for (let i = 0; i < PACK_MAX_EVENTS - 1; i++) expect(w.add(entry(i, 'j'))).toBeUndefined();
    expect(w.reserve('{p}:events', 'c-1-producer', shared, 1, 100)).toBeUndefined();
    const full = w.reserve('{p}:events', 'c-1-producer', shared, 2, 100);
    expect(full?.count).toBe(PACK_MAX_EVENTS - 1);
    expect(w.count).toBe(0);
    w.appendLines('{p}:events', 'c-1-producer', shared, 40, 1, `{${entry(40, 'j').json},${attemptOf('j')}}`, 10);
    expect(w.reserve('{p}:s1', 'c-1-producer', shared, 1, 100)?.count).toBe(1);
  });

  it('close the open pack for a run that would pass the character bound', () => {
    const w = new PackWriter();
    w.add(entry(0, 'j'));
    expect(w.reserve('{p}:events', 'c-1-producer', shared, 1, 1000)).toBeUndefined();
    expect(w.reserve('{p}:events', 'c-1-producer', shared, 1, PACK_MAX_CHARS)?.count).toBe(1);
    expect(w.count).toBe(0);
  });
});

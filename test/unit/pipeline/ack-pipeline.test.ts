import { describe, expect, it } from 'vitest';
import type { Acker } from '../../../src/bus/index.js';
import { createAckPipeline } from '../../../src/pipeline/ack-pipeline.js';

/** An acker whose acks the test answers one by one. */
function manualAcker() {
  const calls: { ids: string[]; resolve: () => void; reject: (e: Error) => void }[] = [];
  const acker: Acker = {
    ack: (entries) =>
      new Promise<number>((resolve, reject) => {
        calls.push({ ids: entries.map((e) => e.id), resolve: () => resolve(entries.length), reject });
      }),
  };
  return { acker, calls };
}
const batch = (...ids: string[]) => ids.map((id) => ({ stream: 's', id }));

describe('ack pipeline', () => {
  it('keeps at most one ack in flight: the next push waits for it, counts only answered acks', async () => {
    const { acker, calls } = manualAcker();
    let acked = 0;
    const acks = createAckPipeline({ acker, onAcked: (n) => (acked += n) });
    await acks.push(batch('1-0', '2-0'));
    expect(calls.map((c) => c.ids)).toEqual([['1-0', '2-0']]);
    expect(acks.inFlight()).toBe(2);
    let second = false;
    const p = acks.push(batch('3-0')).then(() => (second = true));
    await Promise.resolve();
    expect(second).toBe(false);
    expect(calls).toHaveLength(1); // not sent while the first is unanswered
    calls[0]!.resolve();
    await p;
    expect(calls.map((c) => c.ids)).toEqual([['1-0', '2-0'], ['3-0']]);
    expect(acked).toBe(2);
    calls[1]!.resolve();
    await acks.flush();
    expect(acked).toBe(3);
    expect(acks.inFlight()).toBe(0);
  });

  it('an ack error is not lost: the next push or flush throws it, once', async () => {
    const { acker, calls } = manualAcker();
    let acked = 0;
    const acks = createAckPipeline({ acker, onAcked: (n) => (acked += n) });
    await acks.push(batch('1-0'));
    calls[0]!.reject(new Error('READONLY'));
    await expect(acks.push(batch('2-0'))).rejects.toThrow('READONLY');
    expect(calls).toHaveLength(1); // the failed push sent nothing
    await expect(acks.flush()).resolves.toBeUndefined();
    expect(acked).toBe(0);
  });

  it('counts events, not entries: a packed entry acknowledged counts the events it held', async () => {
    const { acker, calls } = manualAcker();
    let acked = 0;
    const acks = createAckPipeline({ acker, onAcked: (n) => (acked += n) });
    await acks.push(batch('1-0', '2-0'), 17);
    expect(acks.inFlight()).toBe(17);
    calls[0]!.resolve();
    await acks.flush();
    expect(acked).toBe(17);
    expect(acks.inFlight()).toBe(0);
  });
});

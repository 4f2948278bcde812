import { describe, expect, it } from 'vitest';
import { createLazyAbort } from '../../../src/jobs/lazy-abort.js';

const asReason = (r: unknown) => new Error(`linked: ${String(r)}`);

describe('lazy abort', () => {
  it('aborts the signal read before the abort, with the reason', () => {
    const a = createLazyAbort({ fromLink: asReason });
    const signal = a.signal;
    expect(signal.aborted).toBe(false);
    a.abort('stop');
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBe('stop');
    expect(a.aborted).toBe(true);
  });

  it('gives an already-aborted signal when read after the abort; the first reason wins', () => {
    const a = createLazyAbort({ fromLink: asReason });
    a.abort('first');
    a.abort('second');
    expect(a.signal.aborted).toBe(true);
    expect(a.signal.reason).toBe('first');
    expect(a.reason).toBe('first');
  });

  it('follows the linked signal whether or not ours was read', () => {
    const link1 = new AbortController();
    const unread = createLazyAbort({ link: link1.signal, fromLink: asReason });
    link1.abort('bullmq cancel');
    expect(unread.aborted).toBe(true);
    expect((unread.reason as Error).message).toBe('linked: bullmq cancel');

    const link2 = new AbortController();
    const read = createLazyAbort({ link: link2.signal, fromLink: asReason });
    const signal = read.signal;
    link2.abort('later');
    expect(signal.aborted).toBe(true);
    expect((signal.reason as Error).message).toBe('linked: later');
  });

  it('is not aborted while nothing aborted it', () => {
    const link = new AbortController();
    const a = createLazyAbort({ link: link.signal, fromLink: asReason });
    expect(a.aborted).toBe(false);
    expect(a.reason).toBeUndefined();
    expect(a.signal.aborted).toBe(false);
  });
});

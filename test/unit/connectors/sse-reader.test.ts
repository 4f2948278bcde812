import { describe, expect, it } from 'vitest';
import { MAX_SSE_EVENT_CHARS, MAX_SSE_LINE_CHARS, readSseData, readSseEvents, type SseEvent } from '../../../connectors/sse-reader.js';

/** A body that arrives in exactly these pieces (strings are UTF-8 encoded, bytes passed as is). */
function body(parts: (string | Uint8Array)[]): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(c) {
      for (const p of parts) c.enqueue(typeof p === 'string' ? new TextEncoder().encode(p) : p);
      c.close();
    },
  });
}

async function events(parts: (string | Uint8Array)[]): Promise<SseEvent[]> {
  const out: SseEvent[] = [];
  for await (const e of readSseEvents(body(parts))) out.push(e);
  return out;
}

const msg = (data: string): SseEvent => ({ event: 'message', data });

describe('readSseEvents', () => {
  it('frames events split anywhere across chunks, one byte at a time too', async () => {
    expect(await events(['da', 'ta: {"a"', ':1}\n', '\n', 'data: b\n\n'])).toEqual([msg('{"a":1}'), msg('b')]);
    const text = 'data: one\n\nevent: error\ndata: two\n\n';
    expect(await events([...text])).toEqual([msg('one'), { event: 'error', data: 'two' }]);
  });

  it('keeps a multi-byte character split between chunks', async () => {
    const bytes = new TextEncoder().encode('data: héllo ✓\n\n');
    expect(await events([bytes.slice(0, 8), bytes.slice(8, 14), bytes.slice(14)])).toEqual([msg('héllo ✓')]);
  });

  it('ends lines in CRLF, also when the CR and the LF arrive in different chunks (no blank line is made up)', async () => {
    expect(await events(['data: x\r\n\r\ndata: y\r\n\r\n'])).toEqual([msg('x'), msg('y')]);
    expect(await events(['data: x\r', '\ndata: y\r', '\n\r', '\n'])).toEqual([msg('x\ny')]);
  });

  it('ends lines in a bare CR (allowed by the SSE spec)', async () => {
    expect(await events(['data: a\rdata: b\r\revent: error\rdata: c\r\r'])).toEqual([msg('a\nb'), { event: 'error', data: 'c' }]);
    expect(await events(['data: a\r', '\r', 'data: b\r', '\r'])).toEqual([msg('a'), msg('b')]);
  });

  it('skips comments (keep-alives) and dispatches nothing for a block of comments', async () => {
    expect(await events([': keep-alive\n\n: OPENROUTER PROCESSING\n\ndata: z\n: in between\ndata: z2\n\n'])).toEqual([msg('z\nz2')]);
  });

  it('reads the event type, which applies to its own event only; an event without data is dropped', async () => {
    const got = await events(['event: error\ndata: {"error":{"message":"boom"}}\n\nevent: ping\n\ndata: after\n\n']);
    expect(got).toEqual([{ event: 'error', data: '{"error":{"message":"boom"}}' }, msg('after')]);
  });

  it('joins multi-line data with \\n, drops one space after the colon only, and reads a field without a colon as empty', async () => {
    expect(await events(['data: line1\ndata:line2\ndata:  indented\ndata\n\n'])).toEqual([msg('line1\nline2\n indented\n')]);
    expect(await events(['id: 7\nretry: 100\nunknown: x\ndata: kept\n\n'])).toEqual([msg('kept')]);
  });

  it('still dispatches the last event when the body ends without the blank line', async () => {
    expect(await events(['data: a\n\ndata: [DONE]'])).toEqual([msg('a'), msg('[DONE]')]);
    expect(await events(['data: a\r'])).toEqual([msg('a')]);
  });

  it('refuses a line longer than MAX_SSE_LINE_CHARS', async () => {
    await expect(events(['data: ', 'x'.repeat(MAX_SSE_LINE_CHARS + 1)])).rejects.toThrow(/longer than/);
  });

  it('refuses an event whose data passes MAX_SSE_EVENT_CHARS (a server that never sends the blank line)', async () => {
    const line = `data: ${'y'.repeat(MAX_SSE_LINE_CHARS / 2)}\n`;
    const lines = Array.from({ length: Math.ceil(MAX_SSE_EVENT_CHARS / (MAX_SSE_LINE_CHARS / 2)) + 1 }, () => line);
    await expect(events(lines)).rejects.toThrow(/stream event longer than/);
    await expect(events([line, '\n', line, '\n'])).resolves.toHaveLength(2);
  });
});

describe('readSseData', () => {
  it('yields the data of every event, whatever its type', async () => {
    const out: string[] = [];
    for await (const d of readSseData(body(['data: a\r\revent: error\rdata: b\r\r']))) out.push(d);
    expect(out).toEqual(['a', 'b']);
  });
});

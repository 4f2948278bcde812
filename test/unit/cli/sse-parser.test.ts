import { describe, expect, it } from 'vitest';
import { createSseParser } from '../../../src/cli/sse-parser.js';

describe('createSseParser', () => {
  it('parses messages split across chunks, with ids, events, retry and comments', () => {
    const p = createSseParser();
    expect(p.push('retry: 2000\n\n: keep-alive\n\nid: 1-0\nevent: job\nda')).toEqual([]);
    expect(p.push('ta: {"a":1}\r\n\r\nid: 2-0\ndata: x\ndata: y\n\n')).toEqual([
      { event: 'job', data: '{"a":1}', id: '1-0' },
      { event: 'message', data: 'x\ny', id: '2-0' },
    ]);
    expect(p.retryMs).toBe(2000);
  });

  it('waits for the \\n after a chunk-final \\r, and drops an over-long line', () => {
    const p = createSseParser({ maxLineChars: 10 });
    expect(p.push('data: a\r')).toEqual([]);
    expect(p.push('\n\r\n')).toEqual([{ event: 'message', data: 'a' }]);
    p.push('data: 0123456789abc');
    expect(p.droppedLines).toBe(1);
  });
});

/**
 * An incremental parser of `text/event-stream` (the WHATWG rules the CLI needs): feed it
 * chunks as they arrive, get back the complete messages.
 */

/** One server-sent event. */
export interface SseMessage {
  /** `event:` field; `message` when absent. */
  event: string;
  data: string;
  /** `id:` field of this message, if it had one. */
  id?: string;
}

/** Options of {@link createSseParser}. */
export interface SseParserOptions {
  /** Longest line accepted, in characters; a longer one is dropped and counted. Default 1 MiB. */
  maxLineChars?: number;
}

/** The parser. */
export interface SseParser {
  /** Feeds a chunk; returns the messages it completed. */
  push(chunk: string): SseMessage[];
  /** The last `retry:` value seen, in ms. */
  readonly retryMs: number | undefined;
  /** Lines dropped for being longer than `maxLineChars`. */
  readonly droppedLines: number;
}

/** Creates an {@link SseParser}. */
export function createSseParser(options: SseParserOptions = {}): SseParser {
  const maxLineChars = options.maxLineChars ?? 1024 * 1024;
  let buffer = '';
  let event = '';
  let data: string[] = [];
  let id: string | undefined;
  let retryMs: number | undefined;
  let droppedLines = 0;

  function line(text: string, out: SseMessage[]): void {
    if (text === '') {
      if (data.length > 0) out.push({ event: event || 'message', data: data.join('\n'), ...(id !== undefined ? { id } : {}) });
      event = '';
      data = [];
      id = undefined;
      return;
    }
    if (text.startsWith(':')) return; // comment (keep-alive)
    const colon = text.indexOf(':');
    const field = colon === -1 ? text : text.slice(0, colon);
    let value = colon === -1 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id' && !value.includes('\0')) id = value;
    else if (field === 'retry' && /^\d+$/.test(value)) retryMs = Number(value);
  }

  return {
    push(chunk) {
      buffer += chunk;
      const out: SseMessage[] = [];
      for (;;) {
        const m = /\r\n|\r|\n/.exec(buffer);
        if (!m) break;
        // A lone \r at the very end may be the first half of \r\n: wait for more.
        if (m[0] === '\r' && m.index === buffer.length - 1) break;
        line(buffer.slice(0, m.index), out);
        buffer = buffer.slice(m.index + m[0].length);
      }
      if (buffer.length > maxLineChars) {
        buffer = '';
        droppedLines++;
      }
      return out;
    },
    get retryMs() {
      return retryMs;
    },
    get droppedLines() {
      return droppedLines;
    },
  };
}

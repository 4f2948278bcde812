import { ConnectorError } from './connector-error.js';

/** Longest SSE line accepted, in characters: a bound on what a misbehaving server can make us buffer. */
export const MAX_SSE_LINE_CHARS = 1024 * 1024;
/** Most characters of `data` one event may gather (a server that never sends the blank line). */
export const MAX_SSE_EVENT_CHARS = 8 * MAX_SSE_LINE_CHARS;

/** One Server-Sent Event. */
export interface SseEvent {
  /** The `event:` field; `message` when the event names none. */
  event: string;
  /** The `data:` lines, joined with `\n`. */
  data: string;
}

/**
 * Yields the events of a Server-Sent Events body, framed as the WHATWG spec says: a line ends in
 * CRLF, LF or a bare CR (also when split across chunks), one space after the colon is dropped,
 * `:` lines are comments, a blank line dispatches the event and an event without data is
 * dropped; `id` and `retry` are ignored. Unlike the spec, the body's last event is dispatched
 * even without the blank line after it (some servers leave it out), so a consumer that needs a
 * complete answer checks for its own end marker.
 */
export async function* readSseEvents(body: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  const eol = /\r\n|\r|\n/g;
  let buffer = '';
  // The last chunk ended in CR: a LF at the start of the next one ends the same line.
  let skipLf = false;
  let event = '';
  let data: string[] = [];
  let dataChars = 0;
  const take = (line: string): SseEvent | undefined => {
    if (line === '') {
      const out = data.length > 0 ? { event: event || 'message', data: data.join('\n') } : undefined;
      event = '';
      data = [];
      dataChars = 0;
      return out;
    }
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(line.startsWith(' ', colon + 1) ? colon + 2 : colon + 1);
    if (field === 'data') {
      dataChars += value.length + 1;
      if (dataChars > MAX_SSE_EVENT_CHARS) throw new ConnectorError(`stream event longer than ${MAX_SSE_EVENT_CHARS} characters`, { category: 'model', type: 'StreamError' });
      data.push(value);
    }
    else if (field === 'event') event = value;
    return undefined;
  };
  for await (const chunk of body as AsyncIterable<Uint8Array>) {
    let text = decoder.decode(chunk, { stream: true });
    if (skipLf && text.length > 0) {
      if (text.startsWith('\n')) text = text.slice(1);
      skipLf = false;
    }
    buffer += text;
    let from = 0;
    eol.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = eol.exec(buffer)) !== null) {
      if (m[0] === '\r' && eol.lastIndex === buffer.length) skipLf = true;
      const line = buffer.slice(from, m.index);
      from = eol.lastIndex;
      const out = take(line);
      if (out) yield out;
    }
    buffer = buffer.slice(from);
    if (buffer.length > MAX_SSE_LINE_CHARS) {
      throw new ConnectorError(`stream line longer than ${MAX_SSE_LINE_CHARS} characters`, { category: 'model', type: 'StreamError' });
    }
  }
  buffer += decoder.decode();
  if (buffer.length > 0) take(buffer);
  const last = take('');
  if (last) yield last;
}

/**
 * Yields the `data:` payloads of a Server-Sent Events body, one per event whatever its type
 * (use {@link readSseEvents} to tell `event: error` from the rest).
 */
export async function* readSseData(body: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  for await (const e of readSseEvents(body)) yield e.data;
}

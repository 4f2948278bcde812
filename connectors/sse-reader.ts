import { ConnectorError } from './connector-error.js';

/** Longest SSE line accepted, in characters: a bound on what a misbehaving server can make us buffer. */
export const MAX_SSE_LINE_CHARS = 1024 * 1024;

/**
 * Yields the `data:` payloads of a Server-Sent Events body, one per event (multi-line data
 * joined with `\n`). Comments and other fields are skipped.
 */
export async function* readSseData(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffer = '';
  let data: string[] = [];
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl).replace(/\r$/, '');
      buffer = buffer.slice(nl + 1);
      if (line === '') {
        if (data.length > 0) yield data.join('\n');
        data = [];
      } else if (line.startsWith('data:')) {
        data.push(line.slice(line.startsWith('data: ') ? 6 : 5));
      }
    }
    if (buffer.length > MAX_SSE_LINE_CHARS) {
      throw new ConnectorError(`stream line longer than ${MAX_SSE_LINE_CHARS} characters`, { category: 'model', type: 'StreamError' });
    }
  }
  const rest = buffer.replace(/\r$/, '');
  if (rest.startsWith('data:')) data.push(rest.slice(rest.startsWith('data: ') ? 6 : 5));
  if (data.length > 0) yield data.join('\n');
}

/** One server-sent message, or a comment line. */
export interface SseMessage {
  id?: string;
  event?: string;
  data?: string;
  retry?: string;
  comment?: string;
}

/** A minimal SSE client over fetch, for tests: collects messages until told to stop. */
export class SseClient {
  readonly messages: SseMessage[] = [];
  status = 0;
  ended = false;
  private readonly abort = new AbortController();
  private buffer = '';

  constructor(
    private readonly url: string,
    private readonly headers: Record<string, string> = {},
  ) {}

  /** Connects and reads in the background; resolves once the response headers arrived. */
  async open(): Promise<void> {
    const res = await fetch(this.url, { headers: this.headers, signal: this.abort.signal });
    this.status = res.status;
    if (!res.body) return;
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    void (async () => {
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          this.feed(decoder.decode(value, { stream: true }));
        }
      } catch {
        // aborted by close()
      } finally {
        this.ended = true;
      }
    })();
  }

  /** Messages with data (events), in arrival order. */
  events(): SseMessage[] {
    return this.messages.filter((m) => m.data !== undefined);
  }

  close(): void {
    this.abort.abort();
  }

  private feed(text: string): void {
    this.buffer += text;
    let end: number;
    while ((end = this.buffer.indexOf('\n\n')) >= 0) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const msg: SseMessage = {};
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) msg.comment = line.slice(1).trim();
        else {
          const i = line.indexOf(':');
          const [k, v] = i < 0 ? [line, ''] : [line.slice(0, i), line.slice(i + 1).replace(/^ /, '')];
          if (k === 'id' || k === 'event' || k === 'retry') msg[k] = v;
          else if (k === 'data') msg.data = msg.data === undefined ? v : `${msg.data}\n${v}`;
        }
      }
      this.messages.push(msg);
    }
  }
}

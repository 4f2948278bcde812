import { Hono } from 'hono';
import { streamSSE, type SSEStreamingApi } from 'hono/streaming';
import { JOB_STATES, type FeedEntry, type JobState, type StatusReader } from '../../status/types.js';
import { ClosedError } from '../../errors.js';
import type { ApiContext, ApiEnv } from '../api-context.js';
import { ApiError } from '../api-error.js';
import { requireJobAccess } from '../auth/auth-middleware.js';
import { idParam, listParam, streamIdParam, type Query } from '../params.js';
import type { FeedSubscription } from '../sse/feed-subscription.js';
import { compareStreamIds } from '../sse/stream-ids.js';

/** What a client asked to see. */
interface StreamFilter {
  states?: JobState[];
  service?: string;
  job?: string;
  kinds?: ('job' | 'worker')[];
}

function streamFilter(q: Query): StreamFilter {
  const f: StreamFilter = {};
  const states = listParam(q, 'state', JOB_STATES);
  const kinds = listParam(q, 'types', ['job', 'worker'] as const);
  const service = idParam(q, 'service');
  const job = idParam(q, 'job');
  if (states) f.states = states;
  if (kinds) f.kinds = kinds;
  if (service !== undefined) f.service = service;
  if (job !== undefined) f.job = job;
  return f;
}

function matches(f: StreamFilter, e: FeedEntry): boolean {
  if (f.kinds && !f.kinds.includes(e.kind)) return false;
  if (f.job !== undefined && e.jobId !== f.job) return false;
  if (f.service !== undefined && e.serviceType !== f.service) return false;
  if (f.states && (e.state === undefined || !f.states.includes(e.state))) return false;
  return true;
}

const CATCH_UP_BATCH = 500;
const MAX_CATCH_UP_ROUNDS = 3;

/** Streams one client's changes: catch up from Redis, then follow the shared live feed. */
async function pump(stream: SSEStreamingApi, reader: StatusReader, sub: FeedSubscription, afterId: string | undefined, filter: StreamFilter): Promise<void> {
  let last = afterId ?? sub.startId;
  const send = async (entries: readonly FeedEntry[]) => {
    for (const e of entries) {
      if (compareStreamIds(e.id, last) <= 0) continue; // already sent (catch-up overlaps the live queue)
      last = e.id;
      if (matches(filter, e)) await stream.writeSSE({ id: e.id, event: e.kind, data: JSON.stringify(e) });
    }
  };
  // Catch up from Redis until the client meets the live queue; an overflow while catching up
  // just means more to read from Redis, a few times at most.
  for (let round = 0; afterId !== undefined && round < MAX_CATCH_UP_ROUNDS; round++) {
    for (;;) {
      const batch = await reader.readFeed({ afterId: last, count: CATCH_UP_BATCH, blockMs: 0 });
      await send(batch);
      if (batch.length < CATCH_UP_BATCH || stream.aborted) break;
    }
    if (!sub.overflowed) break;
    sub.reset();
  }
  while (!stream.aborted) {
    const pull = await sub.next();
    if (pull.kind === 'closed') return stream.write(': server closing the stream; reconnect with Last-Event-ID\n\n').then(() => undefined);
    if (pull.kind === 'overflow') return stream.write(': client too slow, queue overflowed; reconnect with Last-Event-ID\n\n').then(() => undefined);
    await send(pull.entries);
  }
}

/** `GET /api/stream`: SSE of status changes, filterable, resuming from Last-Event-ID. */
export function streamRoute(ctx: ApiContext): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  const keepAliveMs = ctx.options.sse?.keepAliveMs ?? 15_000;

  app.get('/api/stream', async (c) => {
    const q = c.req.query();
    const filter = streamFilter(q);
    requireJobAccess(c.get('principal'), filter.job);
    const header = c.req.header('last-event-id');
    const afterId = header !== undefined && header !== '' ? streamIdParam(header, 'Last-Event-ID') : streamIdParam(q.lastEventId, 'lastEventId');
    const sub = await ctx.fanout.subscribe().catch((err: unknown) => {
      if (err instanceof ClosedError) throw new ApiError(503, 'shutting_down', 'The server is shutting down; reconnect in a moment');
      throw err;
    });
    return streamSSE(c, async (stream) => {
      stream.onAbort(() => sub.close());
      const keepAlive = setInterval(() => void stream.write(': keep-alive\n\n'), keepAliveMs).unref();
      const run = (async () => {
        await stream.write('retry: 2000\n\n');
        await pump(stream, ctx.reader, sub, afterId, filter);
      })();
      const tracked = run.catch((err: unknown) => ctx.logger?.warn({ err }, 'SSE stream ended by an error'));
      ctx.openStreams.add(tracked);
      try {
        await tracked;
      } finally {
        ctx.openStreams.delete(tracked);
        clearInterval(keepAlive);
        sub.close();
      }
    });
  });

  return app;
}

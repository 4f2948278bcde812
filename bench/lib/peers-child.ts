/**
 * Local protocol peers for the benchmarks, in a process of their own so their parsing does not
 * eat the measured process's CPU: a Fluentd forward server with acks, an OTLP/HTTP traces
 * receiver and a Sentry envelope endpoint (the same peers the integration tests use). Sends
 * `{ type: 'ready', fluentPort, tracesUrl, dsn }`; answers `{ type: 'counts' }` with what each
 * received and `{ type: 'reset' }` by forgetting it (bounded memory across rounds). SIGTERM closes.
 */
import { startFluentPeer } from '../../test/helpers/fluent-peer.js';
import { startOtlpReceiver } from '../../test/helpers/otlp-receiver.js';
import { startSentryEndpoint } from '../../test/helpers/sentry-endpoint.js';

const fluent = await startFluentPeer();
const otlp = await startOtlpReceiver();
const sentry = await startSentryEndpoint();
const received = { fluentd: 0, spans: 0, sentryEvents: 0 };

/** Counts and forgets what the peers kept, so memory stays bounded however long the bench runs. */
function drain(): void {
  received.fluentd += fluent.records.length;
  received.spans += otlp.spans.length;
  received.sentryEvents += sentry.events.length;
  for (const list of [fluent.records, otlp.spans, otlp.bodies, sentry.envelopes, sentry.events, sentry.bodies, sentry.requestTimes] as unknown[][]) {
    list.length = 0;
  }
}
const timer = setInterval(drain, 200);

process.on('message', (m: { type: string }) => {
  if (m.type === 'counts') {
    drain();
    process.send!({ type: 'counts', ...received });
  } else if (m.type === 'reset') {
    drain();
    received.fluentd = received.spans = received.sentryEvents = 0;
    process.send!({ type: 'reset-done' });
  }
});

process.once('SIGTERM', () => {
  clearInterval(timer);
  void Promise.all([fluent.close(), otlp.close(), sentry.close()]).finally(() => process.exit(0));
});

process.send!({ type: 'ready', fluentPort: fluent.port, tracesUrl: otlp.tracesUrl, dsn: sentry.dsn });

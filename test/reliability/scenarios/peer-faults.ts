import type { Redis } from 'ioredis';
import { cleanupPrefix, testPrefix } from '../../helpers/redis.js';
import { pause, settle } from '../drivers/bus-probe.js';
import { allGroupsDone, startSinkHarness } from '../drivers/sink-harness.js';
import { check, type ScenarioCheck, type ScenarioResult } from '../scenario-result.js';
import { createWorkload } from '../workload.js';

/** Options of the peer-fault scenarios. */
export interface PeerFaultOptions {
  redis: Redis;
  seed: number;
  jobs: number;
}

/**
 * Scenario 5: Fluentd withholds its acks (longer than the sink's ack timeout), then a
 * connection is cut mid-chunk. Pass: the chunks are resent; 0 missing in every sink.
 */
export async function runFluentdFaults(o: PeerFaultOptions): Promise<ScenarioResult> {
  const prefix = testPrefix('rel5');
  const h = await startSinkHarness({ redis: o.redis, prefix });
  const workload = createWorkload({ seed: o.seed });
  try {
    h.fluent.withholdAcks(true);
    await workload.publish(o.redis, prefix, workload.jobs(o.jobs));
    await settle(() => h.fluent.records.length > 0, 10_000);
    await pause(1200); // past the 500 ms ack timeout: the sink must give up on those chunks and resend
    h.fluent.withholdAcks(false);
    h.fluent.cutAfterBytes(3000);
    await workload.publish(o.redis, prefix, workload.jobs(o.jobs));
    await settle(() => allGroupsDone(h), 60_000, 200);
    return {
      scenario: `5 Fluentd acks withheld + cut mid-chunk (seed ${o.seed})`,
      verdicts: await h.verdicts(workload.produced),
      checks: [check('a connection was cut mid-chunk', h.fluent.cuts > 0, `${h.fluent.cuts} cuts`)],
    };
  } finally {
    await h.close();
    await cleanupPrefix(o.redis, prefix);
  }
}

/**
 * Scenario 6: Sentry answers 429 with Retry-After, 429 with X-Sentry-Rate-Limits, 500, 503
 * and resets; OTLP answers 429 (Retry-After), 503, 500 and once slower than the export
 * timeout. Pass: every event delivered or dead-lettered with a reason; after each 429 with
 * Retry-After the next request waited at least that long.
 */
export async function runHttpFaults(o: PeerFaultOptions): Promise<ScenarioResult> {
  const prefix = testPrefix('rel6');
  const h = await startSinkHarness({ redis: o.redis, prefix });
  const workload = createWorkload({ seed: o.seed, failRatio: 0.5 });
  try {
    h.sentry.failNext(1, { status: 429, retryAfter: '1' });
    h.sentry.failNext(1, { status: 429, rateLimits: '1:error:organization' });
    h.sentry.failNext(1, { status: 500, body: 'internal' });
    h.sentry.failNext(1, { status: 503 });
    h.sentry.failNext(1, { reset: true });
    h.otlp.failNext(1, { status: 429, retryAfterSec: 1 });
    h.otlp.failNext(1, { status: 503 });
    h.otlp.failNext(1, { status: 500 });
    h.otlp.failNext(1, { delayMs: 1500 });
    await workload.publish(o.redis, prefix, workload.jobs(o.jobs));
    await settle(() => allGroupsDone(h), 60_000, 200);
    const dl = await h.deadLetters();
    const checks: ScenarioCheck[] = [
      check('every dead letter has a reason', dl.every((r) => r.reason.length > 0), `${dl.length} dead letters`),
      quietAfter('Sentry Retry-After honored', h.sentry.requestTimes, 0),
      quietAfter('Sentry X-Sentry-Rate-Limits honored', h.sentry.requestTimes, 1),
    ];
    return { scenario: `6 Sentry/OTLP HTTP faults (seed ${o.seed})`, verdicts: await h.verdicts(workload.produced), checks };
  } finally {
    await h.close();
    await cleanupPrefix(o.redis, prefix);
  }
}

/**
 * After the answer to request `i` asked to wait 1 s, no new request may arrive between 150 ms
 * (requests of the same batch already on their way) and 950 ms later.
 */
function quietAfter(name: string, times: readonly number[], i: number): ScenarioCheck {
  const t = times[i];
  if (t === undefined) return check(name, false, `request ${i} never came`);
  const early = times.filter((x) => x > t + 150 && x < t + 950).map((x) => x - t);
  return check(name, early.length === 0, early.length ? `requests ${early.join(', ')} ms after the wait-1-s answer` : `no request within 1 s of the answer (${times.length} requests)`);
}

/** Values that must never leave the installation in scenario 8. */
export const PII = { email: 'alice.reliability@example.com', field: 'tax-id-7731', pattern: 'ACCT-99887766' };

/**
 * Scenario 8: events carry a configured field (`customer_tax_id`), a value matching a
 * configured pattern (`ACCT-\d+`) and an e-mail address (a default rule), in attributes and
 * messages. Pass: none of them appears in any request body to Fluentd, OTLP or Sentry, and
 * nothing is lost.
 */
export async function runPiiScrubbing(o: PeerFaultOptions): Promise<ScenarioResult> {
  const prefix = testPrefix('rel8');
  const h = await startSinkHarness({ redis: o.redis, prefix, env: { SCRUB_FIELDS: 'customer_tax_id', SCRUB_PATTERNS: 'ACCT-\\d+' } });
  const workload = createWorkload({
    seed: o.seed,
    failRatio: 0.5,
    extra: (e) => ({
      ...e,
      message: `account ${PII.pattern} of ${PII.email}`,
      attrs: { customer_tax_id: PII.field, contact: PII.email, note: `ref ${PII.pattern}` },
    }),
  });
  try {
    await workload.publish(o.redis, prefix, workload.jobs(o.jobs));
    await settle(() => allGroupsDone(h), 60_000, 200);
    const bodies = [JSON.stringify(h.fluent.records), ...h.otlp.bodies, ...h.sentry.bodies];
    const leaks = Object.values(PII).filter((v) => bodies.some((b) => b.includes(v)));
    return {
      scenario: `8 PII scrubbing (seed ${o.seed})`,
      verdicts: await h.verdicts(workload.produced),
      checks: [check('no configured field or pattern in any request body', leaks.length === 0 && bodies.length > 2, leaks.length ? `leaked: ${leaks.join(', ')}` : `${bodies.length} bodies clean`)],
    };
  } finally {
    await h.close();
    await cleanupPrefix(o.redis, prefix);
  }
}

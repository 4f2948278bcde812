import { describe, expect, it } from 'vitest';
import { createScrubber, withScrubbing, REDACTED } from '../../../../src/sinks/scrub/index.js';
import { loadScrubConfig, splitPatternList } from '../../../../src/config/scrub-config.js';
import { ConfigError } from '../../../../src/errors.js';
import type { Sink } from '../../../../src/sinks/sink.js';
import type { JobscopeEvent } from '../../../../src/events/index.js';
import { makeEvent } from '../../../helpers/events.js';

const JWT =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c';

function failedWith(message: string, stack?: string): JobscopeEvent {
  return makeEvent({
    type: 'job.failed',
    message: `job failed for ${'alice@example.com'}`,
    data: { durationMs: 10, error: { type: 'HttpError', category: 'network', message, ...(stack ? { stack } : {}) } },
    attrs: { api_key: 'abc123', user: 'bob@example.org', Authorization: 'Bearer xyz', tokens: 12 },
  } as Partial<JobscopeEvent> & Pick<JobscopeEvent, 'type'>);
}

describe('createScrubber', () => {
  it('redacts default fields and patterns in message, error and attrs', () => {
    const scrubber = createScrubber();
    const e = failedWith(
      'POST failed: Authorization: Bearer abcdefghijklmnop; key sk-proj-ABCDEFGHIJKLMNOPQRSTU aws AKIAIOSFODNN7EXAMPLE',
      `Error: token ${JWT}\n    at https://user:hunter2pass@api.example.com/v1`,
    );
    const out = scrubber.scrub(e) as Extract<JobscopeEvent, { type: 'job.failed' }>;
    const text = JSON.stringify(out);
    for (const secret of ['alice@example.com', 'bob@example.org', 'abcdefghijklmnop', 'sk-proj-ABC', 'AKIAIOSFODNN7EXAMPLE', JWT, 'hunter2pass', 'abc123', 'xyz"']) {
      expect(text).not.toContain(secret);
    }
    expect(out.message).toBe(`job failed for ${REDACTED}`);
    expect(out.attrs?.api_key).toBe(REDACTED);
    expect(out.attrs?.Authorization).toBe(REDACTED);
    expect(out.attrs?.tokens).toBe(12);
    expect(out.data.error.type).toBe('HttpError');
    expect(out.data.durationMs).toBe(10);
    expect(scrubber.stats().redactions).toBeGreaterThanOrEqual(9);
  });

  it('never mutates the input and keeps ids, identity, trace and usage', () => {
    const e = makeEvent({ type: 'job.completed', message: 'mail carol@example.com', ai: { model: 'gpt-4o', inputTokens: 5 } });
    const before = structuredClone(e);
    const out = createScrubber().scrub(e);
    expect(e).toEqual(before);
    expect(out).not.toBe(e);
    expect(out.id).toBe(e.id);
    expect(out.source).toEqual(e.source);
    expect(out.trace).toEqual(e.trace);
    expect(out.ai).toEqual({ model: 'gpt-4o', inputTokens: 5 });
    expect(out.message).toBe(`mail ${REDACTED}`);
  });

  it('redacts name=value secrets inside text, not look-alike words', () => {
    const s = createScrubber();
    expect(s.scrubString('login password=hunter2 user=x')).toBe(`login password=${REDACTED} user=x`);
    expect(s.scrubString('{"client_secret": "s3cr3t"}')).toBe(`{"client_secret": "${REDACTED}"}`);
    expect(s.scrubString('access_token=abc&x=1')).toBe(`access_token=${REDACTED}&x=1`);
    expect(s.scrubString('used tokens=512 and outputTokens: 3')).toBe('used tokens=512 and outputTokens: 3');
  });

  it('matches keys that end with a field name, and custom fields and patterns', () => {
    const s = createScrubber({ fields: ['prompt'], patterns: [/\bcust-\d{6}\b/g, 'ssn:\\d+'] });
    const out = s.scrubValue({ 'X-Api-Key': 'k', dbPassword: 'p', prompt: 'my secret prompt', note: 'cust-123456 ssn:999', n: 3 });
    expect(out).toEqual({ 'X-Api-Key': REDACTED, dbPassword: REDACTED, prompt: REDACTED, note: `${REDACTED} ${REDACTED}`, n: 3 });
  });

  it('can drop the defaults', () => {
    const s = createScrubber({ useDefaults: false, fields: ['pin'] });
    expect(s.scrubValue({ password: 'p', pin: '1234', mail: 'a@b.co' })).toEqual({ password: 'p', pin: REDACTED, mail: 'a@b.co' });
  });

  it('bounds its work: long strings are cut, deep values replaced', () => {
    const s = createScrubber({ maxStringChars: 10, maxDepth: 2 });
    expect(s.scrubString('x'.repeat(100))).toHaveLength(10);
    expect(s.scrubValue({ a: { b: { c: 'deep' } } })).toEqual({ a: { b: REDACTED } });
    expect(s.stats().truncatedStrings).toBe(1);
  });
});

describe('withScrubbing', () => {
  it('hands the wrapped sink scrubbed events and keeps its name and results', async () => {
    const seen: JobscopeEvent[] = [];
    const inner: Sink = {
      name: 'fake',
      maxBatchSize: 7,
      write: (events) => {
        seen.push(...events);
        return Promise.resolve({ status: 'ok' });
      },
      health: () => Promise.resolve({ ok: true }),
      close: () => Promise.resolve(),
    };
    const sink = withScrubbing(inner, createScrubber());
    const e = makeEvent({ type: 'log', message: 'token=abc' });
    expect(sink.name).toBe('fake');
    expect(sink.maxBatchSize).toBe(7);
    expect(await sink.write([e], new AbortController().signal)).toEqual({ status: 'ok' });
    expect(seen[0]?.message).toBe(`token=${REDACTED}`);
    expect(seen[0]?.id).toBe(e.id);
  });
});

describe('loadScrubConfig', () => {
  it('reads fields, patterns with commas inside, and the defaults switch', () => {
    const c = loadScrubConfig({ SCRUB_FIELDS: 'prompt, ssn', SCRUB_PATTERNS: '\\d{3,},foo\\,bar', SCRUB_DEFAULTS: 'false' });
    expect(c.fields).toEqual(['prompt', 'ssn']);
    expect(c.patterns.map((p) => p.source)).toEqual(['\\d{3,}', 'foo,bar']);
    expect(c.useDefaults).toBe(false);
    expect(loadScrubConfig({}).useDefaults).toBe(true);
    expect(splitPatternList('[a,b],(x|y),z')).toEqual(['[a,b]', '(x|y)', 'z']);
  });

  it('fails at start on a bad regex, naming the variable', () => {
    expect(() => loadScrubConfig({ SCRUB_PATTERNS: 'ok,(unclosed' })).toThrow(ConfigError);
    expect(() => loadScrubConfig({ SCRUB_PATTERNS: 'ok,(unclosed' })).toThrow(/SCRUB_PATTERNS.*\(unclosed/);
  });
});

import type { Random } from '../../connectors/seeded-random.js';
import { MAX_ENTRY_BYTES } from '../../src/events/index.js';
import { makeEvent } from '../helpers/events.js';

/**
 * Generated bad input for scenario 7: stream entries a buggy or hostile producer could write.
 * Each kind breaks the contract in one way; the pipeline must dead-letter every one of them
 * with a reason and keep delivering the valid traffic around them.
 */

/** The kinds of malformed entry. */
export const MALFORMED_KINDS = [
  'bad-json',
  'wrong-types',
  'huge-field',
  'oversized-entry',
  'invalid-utf8',
  'unknown-version',
  'missing-identity',
  'missing-fields',
] as const;
export type MalformedKind = (typeof MALFORMED_KINDS)[number];

/** One malformed entry: its kind and the XADD field/value list (raw bytes where it matters). */
export interface MalformedEntry {
  kind: MalformedKind;
  fields: (string | Buffer)[];
}

const validJson = (): Record<string, unknown> => makeEvent({ type: 'job.progress', producer: 'malformed', seq: 0 }) as unknown as Record<string, unknown>;

const builders: Record<MalformedKind, (random: Random) => (string | Buffer)[]> = {
  'bad-json': (r) => ['v', '1', 'e', JSON.stringify(validJson()).slice(0, 5 + Math.floor(r() * 100))],
  'wrong-types': (r) => {
    const e = validJson();
    const breakers: ((x: Record<string, unknown>) => void)[] = [
      (x) => (x.seq = 'seven'),
      (x) => (x.time = -1),
      (x) => (x.type = 42),
      (x) => (x.data = { progress: 'half' }),
      (x) => (x.job = { id: 5, attempt: 0 }),
      (x) => (x.level = 'loud'),
      (x) => (x.id = 'not-a-uuid'),
    ];
    breakers[Math.floor(r() * breakers.length)]!(e);
    return ['v', '1', 'e', JSON.stringify(e)];
  },
  // Within the entry limit, past a field's bound (message max 8192 characters).
  'huge-field': () => ['v', '1', 'e', JSON.stringify({ ...validJson(), message: 'x'.repeat(20_000) })],
  'oversized-entry': () => ['v', '1', 'e', JSON.stringify({ ...validJson(), message: 'y'.repeat(MAX_ENTRY_BYTES + 1024) })],
  'invalid-utf8': (r) => {
    const json = Buffer.from(JSON.stringify(validJson()));
    const bad = [0xc3, 0xff, 0xfe, 0xa0, 0xa1, 0xed][Math.floor(r() * 6)]!;
    const at = 1 + Math.floor(r() * (json.length - 2));
    return ['v', '1', 'e', Buffer.concat([json.subarray(0, at), Buffer.from([bad, 0x22]), json.subarray(at)])];
  },
  'unknown-version': (r) => ['v', String(2 + Math.floor(r() * 1000)), 'e', JSON.stringify(validJson())],
  'missing-identity': (r) => {
    const e = validJson();
    if (r() < 0.5) delete e.source;
    else e.source = { machineId: 'm-1' };
    return ['v', '1', 'e', JSON.stringify(e)];
  },
  'missing-fields': (r) => (r() < 0.5 ? ['e', JSON.stringify(validJson())] : ['v', '1', 'x', 'y']),
};

/**
 * `count` malformed entries, every kind in turn (so each appears about `count / kinds` times),
 * except `oversized-entry` which is capped at `maxOversized` (each is over 256 KiB).
 */
export function malformedEntries(count: number, random: Random, maxOversized = 20): MalformedEntry[] {
  const out: MalformedEntry[] = [];
  let oversized = 0;
  for (let i = 0; out.length < count; i++) {
    let kind = MALFORMED_KINDS[i % MALFORMED_KINDS.length]!;
    if (kind === 'oversized-entry' && oversized++ >= maxOversized) kind = 'huge-field';
    out.push({ kind, fields: builders[kind](random) });
  }
  return out;
}

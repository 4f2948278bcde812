import type { Redis } from 'ioredis';
import { ENTRY_FIELDS, standaloneEventJson } from '../events/index.js';
import type { StreamEntry } from './stream-entry.js';

/**
 * Moves entries, or single events of packed entries, to the dead-letter stream. The XADD to the
 * dead-letter stream and the XACK on the source stream run in one Lua script, so an entry is
 * never both lost and unacknowledged, nor dead-lettered twice by one group. The dead-letter
 * entry keeps everything needed to inspect and replay it: why, which sink, how many
 * deliveries, the original stream and id, and the original fields (prefixed `orig.`), byte for
 * byte.
 *
 * One event of a packed entry (`v <version> b <lines>`) is dead-lettered alone: its record holds
 * that event as `orig.v` / `orig.e` (a replay re-adds just that event, as a single-event entry)
 * and `part`, its index in the entry. The source entry is acknowledged in the same script only
 * when the caller says this settles its last unsettled event; otherwise the script only adds
 * the record, and the entry stays pending for its other events. A crash after such a record
 * and before the entry's acknowledgement redelivers the entry, and the event may then be
 * dead-lettered a second time: at least once, never lost.
 */

/**
 * KEYS[1] dead-letter stream
 * KEYS[2] source stream
 * ARGV[1] group
 * ARGV[2] source entry id
 * ARGV[3] dead-letter stream max length (approximate; 0 = unbounded)
 * ARGV[4] `1` to acknowledge the source entry, `0` to leave it pending
 * ARGV[5..] dead-letter entry fields and values
 * Returns the number of entries acknowledged (0 if it was no longer pending, or not asked).
 */
const DEAD_LETTER_LUA = `
local args = {}
for i = 5, #ARGV do args[#args + 1] = ARGV[i] end
if tonumber(ARGV[3]) > 0 then
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], '*', unpack(args))
else
  redis.call('XADD', KEYS[1], '*', unpack(args))
end
if ARGV[4] ~= '1' then return 0 end
return redis.call('XACK', KEYS[2], ARGV[1], ARGV[2])
`;

/** Why an entry was dead-lettered; also the `reason` label of `jobscope_dead_letters_total`. */
export type DeadLetterCode = 'invalid' | 'max_deliveries' | 'rejected';

/** One event of a packed entry, dead-lettered alone. */
export interface DeadLetterPart {
  /** The event's index among the lines of the entry's `b` field. */
  index: number;
  /** True when this settles the entry's last unsettled event: the script acknowledges the entry. */
  ack: boolean;
  /** This event's deliveries, when they differ from the entry's. */
  deliveries?: number;
}

/** One entry (or one event of a packed entry, with `part`) to dead-letter. */
export interface DeadLetterItem {
  entry: StreamEntry;
  code: DeadLetterCode;
  /** What is wrong, in words (validation message, the sink's rejection, the last error). */
  reason: string;
  /** The event id, when known. */
  eventId?: string;
  /** Set to dead-letter one event of a packed entry instead of the whole entry. */
  part?: DeadLetterPart;
}

/** Options of {@link createDeadLetter}. */
export interface DeadLetterOptions {
  redis: Redis;
  /** The dead-letter stream key (`deadLetterStreamKey()`). */
  deadLetterStream: string;
  group: string;
  sink: string;
  /** Approximate cap on the dead-letter stream's length. Default 100000; 0 = unbounded. */
  maxLength?: number;
}

/** Dead-letters entries of one group. */
export interface DeadLetter {
  /**
   * Moves each item to the dead-letter stream and acknowledges its entry (for a part: only when
   * `part.ack`), atomically per item. Items run in order.
   */
  send(items: readonly DeadLetterItem[]): Promise<void>;
}

/** Creates a {@link DeadLetter}. */
export function createDeadLetter(options: DeadLetterOptions): DeadLetter {
  const { redis, deadLetterStream, group, sink } = options;
  const maxLength = options.maxLength ?? 100_000;
  const command = `jobscopeDeadLetter`;
  if (!(command in redis)) redis.defineCommand(command, { numberOfKeys: 2, lua: DEAD_LETTER_LUA });
  type Runner = (dlq: string, stream: string, ...args: (string | Buffer)[]) => unknown;

  async function send(items: readonly DeadLetterItem[]): Promise<void> {
    if (items.length === 0) return;
    // One round trip for the batch; each script call is atomic on its own.
    const pipeline = redis.pipeline();
    const run = (pipeline as unknown as Record<string, Runner>)[command]!.bind(pipeline);
    for (const item of items) run(deadLetterStream, item.entry.stream, ...argsFor(item));
    const results = (await pipeline.exec()) ?? [];
    for (const [err] of results) if (err) throw err;
  }

  function argsFor(item: DeadLetterItem): (string | Buffer)[] {
    const { entry, part } = item;
    const fields: (string | Buffer)[] = [
      'reason', item.reason.slice(0, 2000),
      'code', item.code,
      'sink', sink,
      'deliveries', String(part?.deliveries ?? entry.deliveries),
      'stream', entry.stream,
      'id', entry.id,
      'time', String(Date.now()),
    ];
    if (item.eventId !== undefined) fields.push('eventId', item.eventId);
    const orig = entry.fields ?? [];
    if (part) {
      fields.push('part', String(part.index));
      fields.push(...partFields(orig, part.index));
    } else {
      for (let i = 0; i + 1 < orig.length; i += 2) fields.push(`orig.${orig[i]!.toString('latin1')}`, orig[i + 1]!);
    }
    return [group, entry.id, String(maxLength), part && !part.ack ? '0' : '1', ...fields];
  }

  return { send };
}

/** `orig.v` and `orig.e` of one event of a packed entry: the entry's version and the event's line. */
function partFields(orig: readonly Buffer[], index: number): (string | Buffer)[] {
  const out: (string | Buffer)[] = [];
  for (let i = 0; i + 1 < orig.length; i += 2) {
    if (orig[i]!.toString('latin1') === ENTRY_FIELDS.version) out.push(`orig.${ENTRY_FIELDS.version}`, orig[i + 1]!);
  }
  // The index came from decoding these same bytes, so the line exists; an empty one is kept as such.
  out.push(`orig.${ENTRY_FIELDS.event}`, standaloneEventJson(orig, index) ?? Buffer.alloc(0));
  return out;
}

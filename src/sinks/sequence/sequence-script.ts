import type { ChainableCommander, Redis } from 'ioredis';
import { APPLY_SEQS_LUA, SETTLE_HOLES_LUA } from './sequence-lua.js';
import type { SequenceKeys } from './sequence-keys.js';

/**
 * Registers the sequence check's Lua scripts on an ioredis client (EVALSHA, loaded again on
 * NOSCRIPT, e.g. after a Redis restart) and parses their replies.
 */

const APPLY = 'jobscopeSeqApply';
const SETTLE = 'jobscopeSeqSettle';

type ScriptFn = (...args: (string | number)[]) => unknown;

/** One range of seqs declared lost, inclusive. */
export interface SeqRange {
  from: number;
  to: number;
}

/** What one script call did for one producer. */
export interface SeqReply {
  /** Distinct new seqs counted. */
  added: number;
  /** Redeliveries (seqs already accounted for). */
  duplicates: number;
  /** Seqs declared lost by this call. */
  lost: number;
  /** The producer's identity path (`machine/worker/service/connector`). */
  path: string;
  serviceType: string;
  /** The ranges declared lost (at most 20; `lost` counts them all). */
  ranges: SeqRange[];
}

/** Typed callers of the scripts. */
export interface SequenceScripts {
  /** Queues one producer's seqs of a batch on `pipeline`. */
  apply(pipeline: ChainableCommander, producer: string, args: (string | number)[]): void;
  /** Queues a settle call for `producer` on `pipeline`. */
  settle(pipeline: ChainableCommander, producer: string, args: (string | number)[]): void;
}

/** Defines the scripts on `redis` (idempotent) and returns typed callers. */
export function registerSequenceScripts(redis: Redis, keys: SequenceKeys): SequenceScripts {
  const commands = redis as unknown as Record<string, unknown>;
  if (typeof commands[APPLY] !== 'function') {
    redis.defineCommand(APPLY, { numberOfKeys: 5, lua: APPLY_SEQS_LUA });
    redis.defineCommand(SETTLE, { numberOfKeys: 5, lua: SETTLE_HOLES_LUA });
  }
  const keysOf = (p: string) => [keys.producer(p), keys.above(p), keys.holes, keys.gaps(p), keys.gapped];
  const call = (pipeline: ChainableCommander, name: string, producer: string, args: (string | number)[]) => {
    const fn = (pipeline as unknown as Record<string, ScriptFn>)[name]!;
    fn.call(pipeline, ...keysOf(producer), ...args);
  };
  return {
    apply: (pipeline, producer, args) => call(pipeline, APPLY, producer, args),
    settle: (pipeline, producer, args) => call(pipeline, SETTLE, producer, args),
  };
}

/** Parses a script reply. */
export function parseSeqReply(raw: unknown): SeqReply {
  const r = raw as (number | string)[];
  const ranges: SeqRange[] = [];
  for (let i = 5; i + 1 < r.length; i += 2) ranges.push({ from: Number(r[i]), to: Number(r[i + 1]) });
  return {
    added: Number(r[0]),
    duplicates: Number(r[1]),
    lost: Number(r[2]),
    path: String(r[3] ?? ''),
    serviceType: String(r[4] ?? ''),
    ranges,
  };
}

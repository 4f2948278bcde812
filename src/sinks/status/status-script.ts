import type { ChainableCommander, Redis } from 'ioredis';
import { APPLY_EVENTS_LUA } from './lua/apply-events.lua.js';
import { PRUNE_INDEX_LUA } from './lua/prune-index.lua.js';

/**
 * Registers the status store's Lua scripts on an ioredis client (EVALSHA, with ioredis loading
 * the script on NOSCRIPT) and gives them typed call signatures.
 */

const APPLY = 'jobscopeStatusApply';
const PRUNE = 'jobscopeStatusPrune';

type ScriptFn<R> = (...args: (string | number)[]) => R;

/** Raw per-event results of one apply call: 1 applied, 0 duplicate, 2 ignored, or `ERR …`. */
export type ApplyReply = (number | string)[];

/** The typed script calls on a client and on its pipelines. */
export interface StatusScripts {
  /** Queues one apply-events call on `pipeline`. */
  apply(pipeline: ChainableCommander, feedKey: string, args: (string | number)[]): void;
  /** Runs prune-index; resolves to `[removed, remaining]`. */
  prune(indexKey: string, args: (string | number)[]): Promise<[number, number]>;
}

/** Defines the scripts on `redis` (idempotent) and returns typed callers. */
export function registerStatusScripts(redis: Redis): StatusScripts {
  const commands = redis as unknown as Record<string, unknown>;
  if (typeof commands[APPLY] !== 'function') {
    redis.defineCommand(APPLY, { numberOfKeys: 1, lua: APPLY_EVENTS_LUA });
    redis.defineCommand(PRUNE, { numberOfKeys: 1, lua: PRUNE_INDEX_LUA });
  }
  const pruneFn = commands[PRUNE] as ScriptFn<Promise<[number, number]>>;
  return {
    apply(pipeline, feedKey, args) {
      const fn = (pipeline as unknown as Record<string, ScriptFn<unknown>>)[APPLY]!;
      fn.call(pipeline, feedKey, ...args);
    },
    prune(indexKey, args) {
      return pruneFn.call(redis, indexKey, ...args);
    },
  };
}

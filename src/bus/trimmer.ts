import type { Redis } from 'ioredis';

/**
 * Trims event streams without ever removing an entry some consumer group still needs. The
 * floor is the lowest, across every group on the stream (not only this process's sinks), of
 * the group's oldest pending id and its last-delivered id; XTRIM MINID keeps every entry at
 * or above it. An optional budget (max age, max length) trims earlier history, but never
 * past the floor: a slow or dead group keeps its entries, and the stream grows, which the
 * `jobscope_stream_length` and `jobscope_group_lag` gauges show.
 * The floor is computed and applied in one Lua script, so a group cannot advance or appear
 * between the two.
 */

/**
 * KEYS[1] event stream
 * ARGV[1] budget min id from max age (`0` = no age budget)
 * ARGV[2] budget min id from max length (`0` = no length budget)
 * ARGV[3] `1` to trim to the floor when there is no budget (keep only unacknowledged entries)
 * Returns {entries removed, applied min id or '', floor id or ''}.
 */
const TRIM_LUA = `
local function parse(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  if ms == nil then return {tonumber(id) or 0, 0} end
  return {tonumber(ms), tonumber(seq)}
end
local function less(a, b)
  local pa, pb = parse(a), parse(b)
  if pa[1] ~= pb[1] then return pa[1] < pb[1] end
  return pa[2] < pb[2]
end
local groups = redis.call('XINFO', 'GROUPS', KEYS[1])
if #groups == 0 then return {0, '', ''} end
local floor = nil
for _, g in ipairs(groups) do
  local name, last
  for i = 1, #g, 2 do
    if g[i] == 'name' then name = g[i + 1] elseif g[i] == 'last-delivered-id' then last = g[i + 1] end
  end
  local candidate = last
  local summary = redis.call('XPENDING', KEYS[1], name)
  if tonumber(summary[1]) > 0 and less(summary[2], candidate) then candidate = summary[2] end
  if floor == nil or less(candidate, floor) then floor = candidate end
end
local target = nil
if ARGV[1] ~= '0' then target = ARGV[1] end
if ARGV[2] ~= '0' and (target == nil or less(target, ARGV[2])) then target = ARGV[2] end
if target == nil then
  if ARGV[3] ~= '1' then return {0, '', floor} end
  target = floor
end
if less(floor, target) then target = floor end
local removed = redis.call('XTRIM', KEYS[1], 'MINID', target)
return {removed, target, floor}
`;

/** Options of {@link createTrimmer}. */
export interface TrimmerOptions {
  redis: Redis;
  streams: readonly string[];
  /** Keep entries younger than this, in ms, even when every group acknowledged them. Default: unset. */
  maxAgeMs?: number;
  /** Keep at most this many entries (when every group acknowledged the rest). Default: unset. */
  maxLength?: number;
  /**
   * With no budget set: trim every entry all groups acknowledged (true, the default, keeps
   * Redis memory bounded by the unacknowledged backlog), or never trim (false).
   */
  trimAcknowledged?: boolean;
}

/** What one trim of one stream did. */
export interface TrimResult {
  stream: string;
  removed: number;
  /** The MINID applied, when one was. */
  minId?: string;
  /** The lowest id some group still needs. */
  floorId?: string;
}

/** Trims the event streams. */
export interface Trimmer {
  trim(): Promise<TrimResult[]>;
}

/** Most entries one length-budget probe walks; a larger excess is trimmed over several runs. */
const LENGTH_PROBE_LIMIT = 10_000;

/** Creates a {@link Trimmer}. */
export function createTrimmer(options: TrimmerOptions): Trimmer {
  const { redis, streams } = options;
  const command = 'jobscopeTrim';
  if (!(command in redis)) redis.defineCommand(command, { numberOfKeys: 1, lua: TRIM_LUA });
  const run = (redis as unknown as Record<string, (key: string, ...args: string[]) => Promise<unknown[]>>)[command]!.bind(redis);

  async function lengthBudgetId(stream: string): Promise<string> {
    if (options.maxLength === undefined) return '0';
    const length = await redis.xlen(stream);
    const excess = length - options.maxLength;
    if (excess <= 0) return '0';
    const rows = await redis.xrange(stream, '-', '+', 'COUNT', Math.min(excess + 1, LENGTH_PROBE_LIMIT));
    return rows[rows.length - 1]?.[0] ?? '0';
  }

  async function trimOne(stream: string): Promise<TrimResult> {
    const ageId = options.maxAgeMs === undefined ? '0' : `${Math.max(0, Date.now() - options.maxAgeMs)}-0`;
    const lengthId = await lengthBudgetId(stream);
    const [removed, minId, floorId] = await run(stream, ageId, lengthId, options.trimAcknowledged === false ? '0' : '1');
    const result: TrimResult = { stream, removed: Number(removed) };
    if (minId) result.minId = String(minId);
    if (floorId) result.floorId = String(floorId);
    return result;
  }

  async function trim(): Promise<TrimResult[]> {
    const out: TrimResult[] = [];
    for (const stream of streams) out.push(await trimOne(stream));
    return out;
  }

  return { trim };
}

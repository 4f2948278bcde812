/**
 * The Lua of the sequence check. Per producer it keeps a low-water mark `lw` (every seq below
 * it is accounted for: seen, or declared lost), the seqs seen above it in a sorted set (empty
 * while events arrive in order, so the common case writes one hash), the highest seq, the
 * count of distinct seqs seen and of seqs declared lost. A seq at or below `lw`, or already in
 * the set, is a redelivery and is not counted again.
 *
 * A hole (a seq above `lw` not seen) is not lost at once: events of one producer may arrive
 * out of order (several consumers, a claimed entry, a spool replayed after a restart). The
 * hole's first sighting is kept (`holeSince`, with the highest seq at that moment, `holeHigh`);
 * a settle call made after the grace period declares every hole still open below `holeHigh`
 * lost, records the ranges and moves `lw` past them. When the set would outgrow its bound, the
 * oldest holes are declared lost at once (bounded memory; counted like any other loss).
 *
 * Both scripts: KEYS[1] producer hash, KEYS[2] seen-above set, KEYS[3] holes index,
 * KEYS[4] gap list, KEYS[5] gapped index. They reply `{added, duplicates, lost, path, service,
 * from1, to1, from2, to2, …}` with at most 20 ranges (the rest is in `lost`).
 */

const COMMON = `
local h, z, holes, glist, gapped = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local MAX_RANGES = 20

local function advance(lw, zn)
  while zn > 0 do
    local m = redis.call('ZRANGE', z, 0, 0)
    if #m == 0 or tonumber(m[1]) ~= lw then break end
    redis.call('ZREM', z, m[1])
    zn = zn - 1
    lw = lw + 1
  end
  return lw, zn
end

-- Declares every hole below seq 'bound' lost; returns lw, zn, lost (ranges appended to out).
local function settle(lw, zn, bound, out)
  local lost = 0
  while zn > 0 do
    local ms = redis.call('ZRANGEBYSCORE', z, '-inf', bound, 'LIMIT', 0, 1000)
    if #ms == 0 then break end
    for _, m in ipairs(ms) do
      local s = tonumber(m)
      if s > lw then
        lost = lost + (s - lw)
        if #out < MAX_RANGES then out[#out + 1] = { lw, s - 1 } end
      end
      lw = s + 1
    end
    redis.call('ZREMRANGEBYRANK', z, 0, #ms - 1)
    zn = zn - #ms
    if #ms < 1000 then break end
  end
  lw, zn = advance(lw, zn)
  return lw, zn, lost
end

local function record(producer, ranges, lost, now, ttl, listMax)
  if lost == 0 then return end
  redis.call('HINCRBY', h, 'lost', lost)
  for _, r in ipairs(ranges) do
    redis.call('LPUSH', glist, string.format('%d %d %d', r[1], r[2], now))
  end
  redis.call('LTRIM', glist, 0, listMax - 1)
  redis.call('EXPIRE', glist, ttl)
  redis.call('ZADD', gapped, now, producer)
end

local function track_hole(producer, zn, high, now)
  local hs = tonumber(redis.call('HGET', h, 'holeSince') or '0')
  if zn > 0 and hs == 0 then
    redis.call('HSET', h, 'holeSince', now, 'holeHigh', high)
    redis.call('ZADD', holes, now, producer)
  elseif zn == 0 and hs ~= 0 then
    redis.call('HSET', h, 'holeSince', 0)
    redis.call('ZREM', holes, producer)
  end
end

local function reply(added, dups, lost, ranges)
  local st = redis.call('HMGET', h, 'path', 'svc')
  local out = { added, dups, lost, st[1] or '', st[2] or '' }
  for _, r in ipairs(ranges) do
    out[#out + 1] = r[1]
    out[#out + 1] = r[2]
  end
  return out
end
`;

/**
 * Applies one producer's seqs of a batch.
 * ARGV: now (ms), ttl (s), max set size, gap list length, producer, path, service, seq…
 */
export const APPLY_SEQS_LUA = `${COMMON}
local now, ttl, maxWindow, listMax = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local producer = ARGV[5]
local st = redis.call('HMGET', h, 'lw', 'high', 'seen')
local lw, high, seen = tonumber(st[1] or '0'), tonumber(st[2] or '-1'), tonumber(st[3] or '0')
local zn = redis.call('ZCARD', z)
local added, dups = 0, 0
for i = 8, #ARGV do
  local s = tonumber(ARGV[i])
  local new = false
  if s == lw then
    new = true
    lw = lw + 1
    lw, zn = advance(lw, zn)
  elseif s > lw and redis.call('ZADD', z, 'NX', s, ARGV[i]) == 1 then
    new = true
    zn = zn + 1
  end
  if new then
    added = added + 1
    if s > high then high = s end
  else
    dups = dups + 1
  end
end
local ranges, lost = {}, 0
if zn > maxWindow then
  local b = redis.call('ZRANGE', z, zn - maxWindow - 1, zn - maxWindow - 1)
  lw, zn, lost = settle(lw, zn, tonumber(b[1]), ranges)
end
redis.call('HSET', h, 'lw', lw, 'high', high, 'seen', seen + added, 'last', now, 'path', ARGV[6], 'svc', ARGV[7])
redis.call('HSETNX', h, 'first', now)
track_hole(producer, zn, high, now)
record(producer, ranges, lost, now, ttl, listMax)
redis.call('EXPIRE', h, ttl)
if zn > 0 then redis.call('EXPIRE', z, ttl) end
return reply(added, dups, lost, ranges)
`;

/**
 * Declares the producer's holes lost when the oldest was first seen at or before the cutoff.
 * ARGV: now (ms), cutoff (ms), ttl (s), gap list length, producer.
 */
export const SETTLE_HOLES_LUA = `${COMMON}
local now, cutoff, ttl, listMax = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local producer = ARGV[5]
if redis.call('EXISTS', h) == 0 then
  redis.call('ZREM', holes, producer)
  return { 0, 0, 0, '', '' }
end
local st = redis.call('HMGET', h, 'lw', 'high', 'holeSince', 'holeHigh')
local lw, high = tonumber(st[1] or '0'), tonumber(st[2] or '-1')
local hs, holeHigh = tonumber(st[3] or '0'), tonumber(st[4] or '-1')
local zn = redis.call('ZCARD', z)
if zn == 0 or hs == 0 or hs > cutoff then
  track_hole(producer, zn, high, now)
  return reply(0, 0, 0, {})
end
local ranges = {}
local lost
lw, zn, lost = settle(lw, zn, holeHigh, ranges)
redis.call('HSET', h, 'lw', lw, 'holeSince', 0)
redis.call('ZREM', holes, producer)
track_hole(producer, zn, high, now)
record(producer, ranges, lost, now, ttl, listMax)
return reply(0, 0, lost, ranges)
`;

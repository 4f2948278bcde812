/**
 * Shared head of the apply-events script: its settings (from ARGV) and the helpers the job and
 * worker parts use. Concatenated by apply-events.lua.ts; not a script on its own.
 */
export const COMMON_LUA = String.raw`
local base = ARGV[1]
local retentionMs = tonumber(ARGV[2])
local timelineMax = tonumber(ARGV[3])
local feedMax = tonumber(ARGV[4])
local seenMax = tonumber(ARGV[5])
local feedKey = KEYS[1]
local MAX_WORKER_JOBS = 1024

-- Numbers go into hashes as text that reads back to the same double.
local function fmt(x)
  if x == nil then return nil end
  if x == math.floor(x) and math.abs(x) < 1e15 then return string.format('%d', x) end
  return string.format('%.15g', x)
end

local function maxText(a, b)
  if a == nil then return fmt(b) end
  if b == nil or tonumber(a) >= b then return a end
  return fmt(b)
end

local function minText(a, b)
  if a == nil then return fmt(b) end
  if b == nil or tonumber(a) <= b then return a end
  return fmt(b)
end

-- Records the event id in an entity's window of applied ids; false when already applied.
local function firstTime(seenKey, ev)
  if redis.call('ZADD', seenKey, 'NX', ev.ts, ev.i) == 0 then return false end
  local n = redis.call('ZCARD', seenKey)
  if n > seenMax then redis.call('ZREMRANGEBYRANK', seenKey, 0, n - seenMax - 1) end
  redis.call('PEXPIRE', seenKey, retentionMs)
  return true
end

-- Loads the named hash fields into a table (absent fields stay nil).
local function load(key, fields)
  local values = redis.call('HMGET', key, unpack(fields))
  local t = {}
  for i, f in ipairs(fields) do
    if values[i] then t[f] = values[i] end
  end
  return t
end

-- Writes the fields that changed between old and new: HSET what is set, HDEL what was cleared.
local function writeDiff(key, fields, old, new)
  local set, del = {}, {}
  for _, f in ipairs(fields) do
    local v = new[f]
    if v ~= nil and v ~= old[f] then
      set[#set + 1] = f
      set[#set + 1] = v
    elseif v == nil and old[f] ~= nil then
      del[#del + 1] = f
    end
  end
  if #set > 0 then redis.call('HSET', key, unpack(set)) end
  if #del > 0 then redis.call('HDEL', key, unpack(del)) end
end

-- Appends one change to the live feed (capped, approximately, at feedMax entries).
local function feed(kind, ev, rec, jobFields)
  local args = { 'XADD', feedKey, 'MAXLEN', '~', feedMax, '*',
    'kind', kind, 'eventId', ev.i, 'eventType', ev.t, 'time', fmt(ev.ts),
    'machineId', rec.machineId, 'workerId', rec.workerId,
    'serviceType', rec.serviceType, 'connectorId', rec.connectorId }
  if jobFields then
    args[#args + 1] = 'jobId'
    args[#args + 1] = ev.j
    args[#args + 1] = 'state'
    args[#args + 1] = rec.state
    args[#args + 1] = 'attempt'
    args[#args + 1] = rec.attempt
    if rec.progress then
      args[#args + 1] = 'progress'
      args[#args + 1] = rec.progress
    end
  end
  redis.call(unpack(args))
end

-- A worker seen through any of its events: identity and last sign of life.
local function touchWorker(ev)
  local wk = ev.m .. '/' .. ev.w
  local hk = base .. 'worker:' .. wk
  redis.call('HSET', hk, 'machineId', ev.m, 'workerId', ev.w, 'serviceType', ev.s, 'connectorId', ev.c)
  if ev.inst then redis.call('HSET', hk, 'instance', ev.inst) end
  local seen = tonumber(redis.call('HGET', hk, 'lastSeenAt'))
  if seen == nil or ev.ts > seen then redis.call('HSET', hk, 'lastSeenAt', fmt(ev.ts)) end
  redis.call('PEXPIRE', hk, retentionMs)
  redis.call('ZADD', base .. 'workers', 'GT', ev.ts, wk)
  return wk, hk
end
`;

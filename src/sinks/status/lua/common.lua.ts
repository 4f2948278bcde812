/**
 * Shared head of the apply-events script: its settings (from ARGV), the per-call state (results,
 * queued feed entries) and the helpers the job and worker parts use. Concatenated by
 * apply-events.lua.ts; not a script on its own.
 *
 * Hidden hash fields (the reader ignores them): `_ttl` the server time (ms) at which the
 * entity's keys last got their PEXPIRE, `_ix` the score last written to a job's indexes, `_n`
 * the events applied to a worker (when its id window needs trimming).
 */
export const COMMON_LUA = String.raw`
local base = ARGV[1]
local retentionMs = tonumber(ARGV[2])
local timelineMax = tonumber(ARGV[3])
local feedMax = tonumber(ARGV[4])
local seenMax = tonumber(ARGV[5])
local indexRefreshMs = tonumber(ARGV[6])
local FIRST_EVENT_ARG = 7
local feedKey = KEYS[1]
local MAX_WORKER_JOBS = 1024
-- Keys are re-armed with PEXPIRE at most this often (ms), so they live between
-- retention - ttlRefreshMs and retention after their last update.
local ttlRefreshMs = math.min(math.floor(retentionMs / 100), 60000)
local nowMs
do
  local t = redis.call('TIME')
  nowMs = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- Per-call state: one result per event (by ARGV position) and the feed entries to append.
local results = {}
local feedQueue = {}  -- sparse: position → entry

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

local function errText(res)
  if type(res) == 'table' then res = res.err end
  return 'ERR ' .. tostring(res)
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

local function copy(t)
  local c = {}
  for k, v in pairs(t) do c[k] = v end
  return c
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

-- True when the entity's keys are due for a fresh PEXPIRE (and stamps the new time in rec).
local function ttlDue(old, new)
  local last = tonumber(old._ttl)
  if last ~= nil and nowMs - last < ttlRefreshMs and nowMs >= last then return false end
  new._ttl = fmt(nowMs)
  return true
end

-- Which events of an entity's group were applied before: one ZMSCORE on its id window.
local function seenBefore(seenKey, items)
  local ids = {}
  for k, item in ipairs(items) do ids[k] = item.ev.i end
  return redis.call('ZMSCORE', seenKey, unpack(ids))
end

-- Adds the applied ids to the entity's window, keeping its newest seenMax when count says it
-- may hold more.
local function remember(seenKey, applied, count)
  local args = {}
  for _, item in ipairs(applied) do
    args[#args + 1] = item.ev.ts
    args[#args + 1] = item.ev.i
  end
  redis.call('ZADD', seenKey, unpack(args))
  if count > seenMax then redis.call('ZREMRANGEBYRANK', seenKey, 0, -seenMax - 1) end
end

-- Queues one change for the live feed (by event position); appended after all groups, in event
-- order.
local function queueFeed(pos, kind, ev, rec)
  feedQueue[pos] = { pos = pos, kind = kind, ev = ev, rec = rec }
end

-- Drops the queued feed entries of a group whose write failed.
local function dropFeed(items)
  for _, item in ipairs(items) do feedQueue[item.pos] = nil end
end

-- Appends one queued change to the live feed (capped, approximately, at feedMax entries).
local function appendFeed(q)
  local ev, rec = q.ev, q.rec
  if q.kind == 'worker' then
    redis.call('XADD', feedKey, 'MAXLEN', '~', feedMax, '*', 'kind', 'worker', 'eventId', ev.i,
      'eventType', ev.t, 'time', ev.tx, 'machineId', rec.machineId, 'workerId', rec.workerId,
      'serviceType', rec.serviceType, 'connectorId', rec.connectorId)
  else
    local args = { 'MAXLEN', '~', feedMax, '*', 'kind', 'job', 'eventId', ev.i,
      'eventType', ev.t, 'time', ev.tx, 'machineId', rec.machineId, 'workerId', rec.workerId,
      'serviceType', rec.serviceType, 'connectorId', rec.connectorId, 'jobId', ev.j,
      'state', rec.state, 'attempt', rec.attempt }
    -- Optional fields are left out rather than written empty: the reader tells absent from set.
    if rec.progress then
      args[#args + 1] = 'progress'
      args[#args + 1] = rec.progress
    end
    if rec.willRetry then
      args[#args + 1] = 'willRetry'
      args[#args + 1] = rec.willRetry
    end
    redis.call('XADD', feedKey, unpack(args))
  end
end
`;

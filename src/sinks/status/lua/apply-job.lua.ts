/**
 * The job part of the apply-events script: applies all events of one job in a call as one
 * group — one HMGET, one ZMSCORE for duplicates (none for a new job), the state machine and the
 * usage sums in memory
 * (job-transition.lua.ts), then one HSET of what changed, one RPUSH of the timeline lines, the
 * indexes and the worker's current jobs once, and one feed entry per applied event; the workers
 * job events showed alive are touched once per call.
 *
 * Cheap by design: a progress-only group touches the hash, the timeline, the id window and the
 * feed. Index membership (state, worker, …) always moves at once; a job's score in the
 * update-time indexes it stays in is refreshed at most once per `indexRefreshMs` of event time.
 * Keys are re-armed with PEXPIRE at most once per ttlRefreshMs. Uses the helpers of
 * common.lua.ts and job-transition.lua.ts.
 */
export const APPLY_JOB_LUA = String.raw`
local INDEXED = { state = 'state', service = 'serviceType', machine = 'machineId',
  worker = 'workerId', connector = 'connectorId', model = 'model' }

-- Token and cost totals. An event's usage is its attempt's running total (not a delta), so per
-- attempt the largest value seen is kept and the job's total grows only by what that attempt's
-- total grew: duplicates, reordering and running totals never count twice. The latest attempt's
-- are hidden fields of the record (_u<key>, attempt in _ua); when a newer attempt comes, the
-- older one's move to fields of their own (_u<attempt>.<key>, written with the record), where a late
-- report of that attempt (its job.failed applied after the next attempt's events: a redelivery,
-- another pipeline process, a dead letter replayed) still adds what it has not counted yet
-- (the job runtime sends an attempt's usage with its last event only). A stored value that is
-- not a number rejects the event, and only that one, with the words Redis's HINCRBY /
-- HINCRBYFLOAT would use.
local USAGE = { it = 'inputTokens', ot = 'outputTokens', ct = 'cachedTokens', rt = 'reasoningTokens',
  gs = 'gpuSeconds', co = 'costUsd' }
local USAGE_KEYS = { 'it', 'ot', 'ct', 'rt', 'gs', 'co' }
local INT_USAGE = { it = true, ot = true, ct = true, rt = true }

-- Adds to the job's total of usage key k what v grew past seen; returns whether it grew.
local function addUsage(new, k, v, seen)
  if not v or v <= seen then return false end
  local f = USAGE[k]
  local total = 0
  if new[f] ~= nil then total = tonumber(new[f]) end
  if total == nil or (INT_USAGE[k] and total ~= math.floor(total)) then
    error(INT_USAGE[k] and 'hash value is not an integer' or 'hash value is not a float', 0)
  end
  new[f] = fmt(total + (v - seen))
  return true
end

-- Where a run's totals go once another run's come (fields _u<slot>.<key>): its span, or its
-- attempt number for an event without one (and in records written before runs had slots).
local function slotOf(attempt, span)
  return span or fmt(attempt)
end

-- Earlier runs whose totals a record keeps (for their late reports), the oldest dropped past it:
-- a job id re-added every minute would otherwise grow its record by a run's fields each time.
-- A late report of a run dropped counts its whole total again.
local MAX_STASHED_RUNS = 16

-- Notes that slot has fields of its own (the record's _uss: slots, oldest first); past
-- MAX_STASHED_RUNS the oldest slot's fields go (new._drop, deleted by writeJob before the
-- pending fields are written) and so do its pending values.
local function noteSlot(new, pending, slot)
  local list = {}
  for s in string.gmatch(new._uss or '', '%S+') do
    if s ~= slot then list[#list + 1] = s end
  end
  list[#list + 1] = slot
  while #list > MAX_STASHED_RUNS do
    local gone = table.remove(list, 1)
    new._drop = new._drop or {}
    for _, k in ipairs(USAGE_KEYS) do
      local f = '_u' .. gone .. '.' .. k
      new._drop[#new._drop + 1] = f
      pending[f] = nil
    end
  end
  new._uss = table.concat(list, ' ')
end

-- Moves the totals of the run counted last (_ua, _uas) to its slot's fields, for its late reports.
local function stashUsage(new, pending)
  local slot = new._uas or new._ua
  local any = false
  for _, k in ipairs(USAGE_KEYS) do
    if new['_u' .. k] ~= nil then
      pending['_u' .. slot .. '.' .. k] = new['_u' .. k]
      any = true
    end
    new['_u' .. k] = nil
  end
  if any then noteSlot(new, pending, slot) end
end

-- A new run under an attempt number already used (job-transition.lua.ts): the run it replaces
-- keeps what it counted, and the new run counts from nothing.
local function supersedeUsage(new)
  if new._ua == nil then return end
  new._pu = new._pu or {}
  stashUsage(new, new._pu)
  new._ua, new._uas = nil, nil
end

local function applyUsage(ev, new, jk, relation)
  if not (ev.it or ev.ot or ev.ct or ev.rt or ev.gs or ev.co) then return end
  local ua = tonumber(new._ua)
  -- Fields of earlier runs set by this call: written with the record (writeJob); written at
  -- once, a failure of the group's write would leave them counted and the retried event would
  -- add nothing.
  local pending = new._pu or {}
  new._pu = pending
  if relation == 'superseded' or (ua ~= nil and ev.a < ua) then
    -- An earlier run: its own fields (one read, rare); values this call set already come first.
    -- Its slot is its span; a record from before slots has its attempt number's.
    local slot, fields = slotOf(ev.a, ev.sp), {}
    local legacy = slot ~= fmt(ev.a)
    for i, k in ipairs(USAGE_KEYS) do
      fields[i] = '_u' .. slot .. '.' .. k
      if legacy then fields[#USAGE_KEYS + i] = '_u' .. fmt(ev.a) .. '.' .. k end
    end
    local seen = redis.call('HMGET', jk, unpack(fields))
    local any = false
    for i, k in ipairs(USAGE_KEYS) do
      local f = fields[i]
      local before = pending[f] or seen[i]
      if before == nil or before == false then before = seen[#USAGE_KEYS + i] end
      if addUsage(new, k, ev[k], tonumber(before) or 0) then
        pending[f] = fmt(ev[k])
        any = true
      end
    end
    if any then noteSlot(new, pending, slot) end
    return
  end
  local fresh = ua == nil or ev.a > ua
  if fresh then
    -- The run counted so far keeps what it counted, for its late reports.
    if ua ~= nil then stashUsage(new, pending) end
    new._ua, new._uas = fmt(ev.a), ev.sp
  end
  for _, k in ipairs(USAGE_KEYS) do
    local seen = 0
    if not fresh then seen = tonumber(new['_u' .. k]) or 0 end
    if addUsage(new, k, ev[k], seen) then new['_u' .. k] = fmt(ev[k]) end
  end
end

-- Whether the job's index scores are due for a refresh (and stamps the score written in new):
-- a new job, or an update time that moved at least indexRefreshMs past the last score written.
local function refreshDue(old, new)
  local due = old.id == nil
  if not due and new.updatedAt ~= old._ix then
    due = (tonumber(new.updatedAt) or 0) - (tonumber(old._ix) or 0) >= indexRefreshMs
  end
  if due then new._ix = new.updatedAt end
  return due
end

-- Adds a per-value index to the registry the pruner walks (once per call and key).
local registered = {}
local function registerIndex(key)
  if registered[key] then return end
  redis.call('SADD', base .. 'idx:keys', key)
  registered[key] = true
end

-- Moves the job between per-value indexes (membership is always exact) and, when due, refreshes
-- its score in the indexes whose value did not change.
local function updateIndexes(jobId, old, new, refresh)
  local score = new.updatedAt
  for dim, field in pairs(INDEXED) do
    local was, now = old[field], new[field]
    if was ~= now then
      if was ~= nil then redis.call('ZREM', base .. 'idx:' .. dim .. ':' .. was, jobId) end
      if now ~= nil then
        local key = base .. 'idx:' .. dim .. ':' .. now
        redis.call('ZADD', key, score, jobId)
        registerIndex(key)
      end
    elseif refresh and now ~= nil then
      redis.call('ZADD', base .. 'idx:' .. dim .. ':' .. now, score, jobId)
    end
  end
  if refresh then redis.call('ZADD', base .. 'idx:all', score, jobId) end
  if old.id == nil then redis.call('ZADD', base .. 'idx:lex', 0, jobId) end
end

-- The workers other than the one now running the job that the call heard of: the record's worker
-- before the call and the senders of the applied events. NO_WORKERS in the usual group, whose
-- events all come from the job's own worker (and then no table or string is made).
local NO_WORKERS = {}
local function otherWorkers(old, new, applied)
  local m, w = new.machineId, new.workerId
  local others, seen = NO_WORKERS, nil
  local function add(wk)
    if others == NO_WORKERS then others, seen = {}, {} end
    if not seen[wk] then seen[wk] = true; others[#others + 1] = wk end
  end
  if old.machineId and (old.machineId ~= m or old.workerId ~= w) then add(old.machineId .. '/' .. old.workerId) end
  for _, item in ipairs(applied) do
    local ev = item.ev
    if ev.m ~= m or ev.w ~= w then add(ev.m .. '/' .. ev.w) end
  end
  return others
end

-- Keeps the job in the current jobs of the worker running its latest attempt, while received or
-- running, and takes it out of those of the others the call heard of. The record's previous
-- worker covers a job taken over in order; the senders cover the other orders: a dead worker's
-- late events of its older attempt change nothing else, yet its heartbeat may have listed the
-- job before any event of the job arrived (apply-worker.lua.ts keeps such claims), and it sends
-- no later heartbeat that would drop it.
local function updateWorkerJobs(jobId, new, others)
  for _, wk in ipairs(others) do redis.call('SREM', base .. 'worker:' .. wk .. ':jobs', jobId) end
  local jobsKey = base .. 'worker:' .. new.machineId .. '/' .. new.workerId .. ':jobs'
  if new.state == 'received' or new.state == 'running' then
    if redis.call('SCARD', jobsKey) < MAX_WORKER_JOBS and redis.call('SADD', jobsKey, jobId) == 1 then
      redis.call('PEXPIRE', jobsKey, retentionMs)
    end
  else
    redis.call('SREM', jobsKey, jobId)
  end
end

-- Workers seen through job events that changed a job's state, applied once per call and worker
-- after all groups (touches[wk] = the latest such event, with the positions it stands for).
local touches, touchOrder = {}, {}

local function noteTouch(ev, pos)
  local wk = ev.m .. '/' .. ev.w
  local t = touches[wk]
  if t == nil then
    t = { ev = ev, positions = {} }
    touches[wk] = t
    touchOrder[#touchOrder + 1] = wk
  elseif ev.ts > t.ev.ts then
    t.ev = ev
  end
  t.positions[#t.positions + 1] = pos
end

-- Identity and last sign of life of one touched worker.
local function touchWorker(wk, ev)
  local hk = base .. 'worker:' .. wk
  local cur = redis.call('HMGET', hk, 'lastSeenAt', '_ttl')
  local args = { 'machineId', ev.m, 'workerId', ev.w, 'serviceType', ev.s, 'connectorId', ev.c }
  if ev.inst then args[#args + 1] = 'instance'; args[#args + 1] = ev.inst end
  local seen = tonumber(cur[1])
  if seen == nil or ev.ts > seen then args[#args + 1] = 'lastSeenAt'; args[#args + 1] = ev.tx end
  local stamp = {}
  local due = ttlDue({ _ttl = cur[2] or nil }, stamp)
  if due then args[#args + 1] = '_ttl'; args[#args + 1] = stamp._ttl end
  redis.call('HSET', hk, unpack(args))
  if due then redis.call('PEXPIRE', hk, retentionMs) end
  redis.call('ZADD', base .. 'workers', 'GT', ev.ts, wk)
end

-- Applies the call's worker touches; a failed one turns its events' results into errors.
local function flushTouches()
  for _, wk in ipairs(touchOrder) do
    local t = touches[wk]
    local ok, res = pcall(touchWorker, wk, t.ev)
    if not ok then
      for _, pos in ipairs(t.positions) do results[pos] = errText(res) end
    end
  end
end

-- Writes one job's group: hash, timeline, id window, TTLs, indexes, worker side.
local function writeJob(jobId, jk, old, new, applied, workerChanged)
  new.eventCount = fmt((tonumber(old.eventCount) or 0) + #applied)
  local ttl = ttlDue(old, new)
  local refresh = refreshDue(old, new)
  writeDiff(jk, JOB_FIELDS, old, new)
  if new._drop and #new._drop > 0 then redis.call('HDEL', jk, unpack(new._drop)) end
  local set = {}
  for f, v in pairs(new._pu or {}) do set[#set + 1] = f; set[#set + 1] = v end
  if #set > 0 then redis.call('HSET', jk, unpack(set)) end
  local tl, lines = jk .. ':tl', {}
  for k, item in ipairs(applied) do lines[k] = item.ev.tl end
  if redis.call('RPUSH', tl, unpack(lines)) > timelineMax then redis.call('LTRIM', tl, -timelineMax, -1) end
  updateIndexes(jobId, old, new, refresh)
  local others = otherWorkers(old, new, applied)
  if workerChanged or #others > 0 then updateWorkerJobs(jobId, new, others) end
  -- Last: a failure above leaves the ids unremembered, so a retry applies the events again.
  remember(jk .. ':seen', applied, tonumber(new.eventCount))
  if ttl then
    redis.call('PEXPIRE', jk, retentionMs)
    redis.call('PEXPIRE', tl, retentionMs)
    redis.call('PEXPIRE', jk .. ':seen', retentionMs)
  end
end

-- The feed's willRetry of a job.failed entry: the event's, so a reader need not look the job up
-- to tell a failure a retry follows from the final one. Only when the event is of the attempt
-- the entry shows (the record's): a late failure of an earlier attempt or run must not mark the latest.
local function feedWillRetry(ev, new, relation)
  if ev.t ~= 'job.failed' or type(ev.wr) ~= 'boolean' or relation == 'older' or relation == 'superseded' then return nil end
  return tostring(ev.wr)
end

-- Applies one event to the in-memory record and queues its feed entry; returns whether the
-- job's worker side may have changed.
local function applyJobEvent(item, new, jk)
  local ev = item.ev
  local relation = runRelation(ev, new)
  if relation == 'rerun' then supersedeUsage(new) end
  applyUsage(ev, new, jk, relation)
  local workerChanged = transitionJob(ev, ev.j, new, relation)
  queueFeed(item.pos, 'job', ev, { state = new.state, attempt = new.attempt, progress = new.progress,
    willRetry = feedWillRetry(ev, new, relation), machineId = new.machineId, workerId = new.workerId,
    serviceType = new.serviceType, connectorId = new.connectorId })
  return workerChanged
end

-- Applies the events of one job (items in arrival order; item = { pos, ev }).
local function applyJobGroup(jobId, items)
  local jk = base .. 'job:' .. jobId
  local old = load(jk, JOB_FIELDS)
  -- A job without a record has no applied events yet (its id window lives and dies with it).
  local before = old.id and seenBefore(jk .. ':seen', items) or {}
  local new = copy(old)
  local applied, ids, changed = {}, {}, {}
  for k, item in ipairs(items) do
    if before[k] or ids[item.ev.i] then
      results[item.pos] = 0
    else
      local ok, res = pcall(applyJobEvent, item, new, jk)
      if ok then
        if res then changed[#changed + 1] = item end
        applied[#applied + 1] = item
        ids[item.ev.i] = true
        results[item.pos] = 1
      else
        results[item.pos] = errText(res)
      end
    end
  end
  if #applied == 0 then return end
  local ok, res = pcall(writeJob, jobId, jk, old, new, applied, #changed > 0)
  if not ok then
    for _, item in ipairs(applied) do results[item.pos] = errText(res) end
    dropFeed(applied)
    return
  end
  for _, item in ipairs(changed) do noteTouch(item.ev, item.pos) end
end
`;

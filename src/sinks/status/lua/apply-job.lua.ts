/**
 * The job part of the apply-events script: applies one `job.*` (or job-bound `log`) event to
 * the job hash, its timeline, the indexes, its worker's current jobs and the feed.
 *
 * Rules: within an attempt the state only moves up the rank
 * (received 1 < running 2 < failed-with-retry 3 < retrying 4 < completed/failed/cancelled 5)
 * and progress only grows; a later attempt resets the attempt's fields and supersedes; events
 * of an older attempt still count (timeline, event count, usage) but change no state.
 * Returns 1 (applied) or 0 (duplicate). Uses the helpers of common.lua.ts.
 */
export const APPLY_JOB_LUA = String.raw`
local JOB_FIELDS = { 'id', 'state', 'rank', 'attempt', 'queue', 'name', 'machineId', 'workerId',
  'serviceType', 'connectorId', 'instance', 'enqueuedAt', 'receivedAt', 'startedAt', 'finishedAt',
  'updatedAt', 'durationMs', 'queueWaitMs', 'progress', 'stage', 'model', 'provider', 'operation',
  'timeToFirstTokenMs', 'lastError', 'willRetry', 'nextAttempt', 'traceId', 'spanId',
  'lastEventId', 'lastEventType' }
-- Cleared when a new attempt starts.
local ATTEMPT_FIELDS = { 'receivedAt', 'startedAt', 'finishedAt', 'durationMs', 'queueWaitMs',
  'progress', 'stage', 'willRetry', 'nextAttempt' }
local INDEXED = { state = 'state', service = 'serviceType', machine = 'machineId',
  worker = 'workerId', connector = 'connectorId', model = 'model' }
local RANK = { ['job.received'] = 1, ['job.started'] = 2, ['job.progress'] = 2,
  ['job.retrying'] = 4, ['job.completed'] = 5, ['job.cancelled'] = 5 }
local STATE = { ['job.received'] = 'received', ['job.started'] = 'running', ['job.progress'] = 'running',
  ['job.retrying'] = 'retrying', ['job.completed'] = 'completed', ['job.cancelled'] = 'cancelled',
  ['job.failed'] = 'failed' }

local function rankOf(ev)
  if ev.t == 'job.failed' then
    if ev.wr == true then return 3 end
    return 5
  end
  return RANK[ev.t] or 0
end

-- Fields of the attempt the event belongs to (same or newer attempt only).
local function applyAttemptFields(ev, old, new)
  new.attempt = fmt(ev.a)
  new.machineId, new.workerId, new.serviceType, new.connectorId = ev.m, ev.w, ev.s, ev.c
  if ev.inst then new.instance = ev.inst end
  if ev.q then new.queue = ev.q end
  if ev.n then new.name = ev.n end
  if ev.tr then new.traceId, new.spanId = ev.tr, ev.sp end
  if ev.ea then new.enqueuedAt = fmt(ev.ea) end
  if ev.qw then new.queueWaitMs = fmt(ev.qw) end
  local rank, curRank = rankOf(ev), tonumber(new.rank) or 0
  if rank > curRank then
    new.state, new.rank = STATE[ev.t], fmt(rank)
    if rank == 3 or rank == 5 then
      new.finishedAt = fmt(ev.ts)
      if ev.du then new.durationMs = fmt(ev.du) end
    end
    if ev.t == 'job.completed' then new.progress = '100' end
  elseif new.state == nil then
    new.state, new.rank = 'received', '0'
  end
  -- Earliest wins: events may arrive out of order, and progress implies a start.
  if ev.t == 'job.received' then new.receivedAt = minText(new.receivedAt, ev.ts) end
  if ev.t == 'job.started' or ev.t == 'job.progress' then new.startedAt = minText(new.startedAt, ev.ts) end
  if ev.pg and (new.progress == nil or ev.pg >= tonumber(new.progress)) then
    new.progress = fmt(ev.pg)
    if ev.st then new.stage = ev.st end
  end
  if ev.er then new.lastError = ev.er end
  if ev.t == 'job.failed' and ev.wr ~= nil then new.willRetry = tostring(ev.wr) end
  if ev.na then new.nextAttempt = fmt(ev.na) end
end

local function applyUsage(ev, jk, relation, new)
  if ev.mo and (relation ~= 'older' or new.model == nil) then new.model = ev.mo end
  if ev.pv and (relation ~= 'older' or new.provider == nil) then new.provider = ev.pv end
  if ev.op and (relation ~= 'older' or new.operation == nil) then new.operation = ev.op end
  if ev.tf and relation ~= 'older' then new.timeToFirstTokenMs = fmt(ev.tf) end
  if ev.it then redis.call('HINCRBY', jk, 'inputTokens', ev.it) end
  if ev.ot then redis.call('HINCRBY', jk, 'outputTokens', ev.ot) end
  if ev.ct then redis.call('HINCRBY', jk, 'cachedTokens', ev.ct) end
  if ev.rt then redis.call('HINCRBY', jk, 'reasoningTokens', ev.rt) end
  if ev.gs then redis.call('HINCRBYFLOAT', jk, 'gpuSeconds', fmt(ev.gs)) end
  if ev.co then redis.call('HINCRBYFLOAT', jk, 'costUsd', fmt(ev.co)) end
end

-- Moves the job between per-value indexes and refreshes its score everywhere.
local function updateIndexes(jobId, old, new)
  local score = new.updatedAt
  for dim, field in pairs(INDEXED) do
    local was, now = old[field], new[field]
    if was ~= nil and was ~= now then redis.call('ZREM', base .. 'idx:' .. dim .. ':' .. was, jobId) end
    if now ~= nil then
      local key = base .. 'idx:' .. dim .. ':' .. now
      redis.call('ZADD', key, score, jobId)
      if was ~= now then redis.call('SADD', base .. 'idx:keys', key) end
    end
  end
  redis.call('ZADD', base .. 'idx:all', score, jobId)
  if old.id == nil then redis.call('ZADD', base .. 'idx:lex', 0, jobId) end
end

-- Keeps the current-jobs set of the worker running the job's latest attempt.
local function updateWorkerJobs(jobId, old, new)
  local oldWk = old.machineId and (old.machineId .. '/' .. old.workerId)
  local newWk = new.machineId .. '/' .. new.workerId
  if oldWk and oldWk ~= newWk then redis.call('SREM', base .. 'worker:' .. oldWk .. ':jobs', jobId) end
  local jobsKey = base .. 'worker:' .. newWk .. ':jobs'
  if new.state == 'received' or new.state == 'running' then
    if redis.call('SCARD', jobsKey) < MAX_WORKER_JOBS then
      redis.call('SADD', jobsKey, jobId)
      redis.call('PEXPIRE', jobsKey, retentionMs)
    end
  else
    redis.call('SREM', jobsKey, jobId)
  end
end

local function applyJob(ev)
  local jk = base .. 'job:' .. ev.j
  if not firstTime(jk .. ':seen', ev) then return 0 end
  local old = load(jk, JOB_FIELDS)
  local new = {}
  for k, v in pairs(old) do new[k] = v end
  local curAttempt = tonumber(old.attempt)
  local relation = 'same'
  if curAttempt == nil or ev.a > curAttempt then relation = 'newer'
  elseif ev.a < curAttempt then relation = 'older' end
  if relation == 'newer' then
    for _, f in ipairs(ATTEMPT_FIELDS) do new[f] = nil end
    new.rank, new.state = nil, nil
  end
  new.id = ev.j
  if relation ~= 'older' then applyAttemptFields(ev, old, new) end
  applyUsage(ev, jk, relation, new)
  if ev.ts >= (tonumber(old.updatedAt) or 0) then
    new.updatedAt, new.lastEventId, new.lastEventType = fmt(ev.ts), ev.i, ev.t
  end
  writeDiff(jk, JOB_FIELDS, old, new)
  redis.call('HINCRBY', jk, 'eventCount', 1)
  redis.call('PEXPIRE', jk, retentionMs)
  local tl = jk .. ':tl'
  redis.call('RPUSH', tl, ev.tl)
  redis.call('LTRIM', tl, -timelineMax, -1)
  redis.call('PEXPIRE', tl, retentionMs)
  updateIndexes(ev.j, old, new)
  -- The worker side only changes with the attempt or the state; skipping it otherwise saves
  -- most of the calls of a progress event (heartbeats keep the worker's liveness current).
  if relation == 'newer' or (relation == 'same' and new.state ~= old.state) then
    touchWorker(ev)
    updateWorkerJobs(ev.j, old, new)
  end
  feed('job', ev, new, true)
  return 1
end
`;

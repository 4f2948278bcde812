/**
 * The worker part of the apply-events script: applies all `worker.*` events of one worker in
 * a call as one group (one ZMSCORE, one HMGET, one HSET, at most one replacement of its current
 * jobs). Heartbeats replace the worker's current jobs only when newer than the last one, so a
 * late heartbeat cannot resurrect finished jobs, and only with the jobs no record says moved on
 * or ended. Liveness is judged on read from the times.
 * Uses the helpers of common.lua.ts.
 */
export const APPLY_WORKER_LUA = String.raw`
local WORKER_FIELDS = { 'machineId', 'workerId', 'serviceType', 'connectorId', 'instance',
  'lastSeenAt', 'startedAt', 'stoppedAt', 'lastHeartbeatAt', 'heartbeatIntervalMs', 'version',
  'pid', 'concurrency', 'lastEventId', 'lastEventType', 'lastEventAt', '_ttl', '_n' }
local NO_JOBS = {}

-- Applies one worker event to the in-memory record; returns the job list it sets, if any.
local function transitionWorker(ev, new)
  new.machineId, new.workerId, new.serviceType, new.connectorId = ev.m, ev.w, ev.s, ev.c
  if ev.inst then new.instance = ev.inst end
  new.lastSeenAt = maxText(new.lastSeenAt, ev.ts)
  local lastBeat = tonumber(new.lastHeartbeatAt) or 0
  local jobs
  if ev.t == 'worker.started' then
    new.startedAt = maxText(new.startedAt, ev.ts)
    if ev.ve then new.version = ev.ve end
    if ev.pid then new.pid = fmt(ev.pid) end
    if ev.cc then new.concurrency = fmt(ev.cc) end
    if ev.hi then new.heartbeatIntervalMs = fmt(ev.hi) end
    -- A (re)started worker runs nothing yet, unless a newer heartbeat says otherwise.
    if ev.ts >= lastBeat then jobs = NO_JOBS end
  elseif ev.t == 'worker.heartbeat' then
    if ev.ts >= lastBeat then
      new.lastHeartbeatAt = ev.tx
      new.heartbeatIntervalMs = fmt(ev.hi)
      jobs = ev.cj or NO_JOBS
    end
  elseif ev.t == 'worker.stopped' then
    new.stoppedAt = maxText(new.stoppedAt, ev.ts)
    if ev.ts >= lastBeat then jobs = NO_JOBS end
  end
  if ev.ts >= (tonumber(new.lastEventAt) or 0) then
    new.lastEventId, new.lastEventType, new.lastEventAt = ev.i, ev.t, ev.tx
  end
  return jobs
end

-- The jobs of a heartbeat the worker is listed with: those whose record says this worker runs
-- the latest attempt (received or running), and those with no record yet (their events, still on
-- the way, move the job when they come; apply-job.lua.ts). A heartbeat applied after the job moved
-- on — another worker's later attempt or the job's end applied first (stream shards,
-- redeliveries, a call's events grouped per entity) — must not list it again: a dead worker sends
-- no later heartbeat to take it back. One HMGET per job listed, on heartbeats only.
local function heldJobs(new, jobs)
  local held = {}
  for i = 1, math.min(#jobs, MAX_WORKER_JOBS) do
    local r = redis.call('HMGET', base .. 'job:' .. jobs[i], 'machineId', 'workerId', 'state')
    if not r[1] or (r[1] == new.machineId and r[2] == new.workerId and (r[3] == 'received' or r[3] == 'running')) then
      held[#held + 1] = jobs[i]
    end
  end
  return held
end

local function replaceJobs(jobsKey, jobs)
  redis.call('DEL', jobsKey)
  if #jobs == 0 then return end
  redis.call('SADD', jobsKey, unpack(jobs))
  redis.call('PEXPIRE', jobsKey, retentionMs)
end

local function writeWorker(wk, hk, old, new, applied, jobs)
  new._n = fmt((tonumber(old._n) or 0) + #applied)
  local ttl = ttlDue(old, new)
  writeDiff(hk, WORKER_FIELDS, old, new)
  if jobs then replaceJobs(hk .. ':jobs', heldJobs(new, jobs)) end
  redis.call('ZADD', base .. 'workers', 'GT', tonumber(new.lastSeenAt), wk)
  remember(hk .. ':seen', applied, tonumber(new._n))
  if ttl then redis.call('PEXPIRE', hk, retentionMs) end
  -- The hash may be younger than its id window: job events create it (touches) without one.
  if ttl or old._n == nil then redis.call('PEXPIRE', hk .. ':seen', retentionMs) end
end

-- Applies the events of one worker (items in arrival order; item = { pos, ev }).
local function applyWorkerGroup(wk, items)
  local hk = base .. 'worker:' .. wk
  local old = load(hk, WORKER_FIELDS)
  local before = old.machineId and seenBefore(hk .. ':seen', items) or {}
  local new = copy(old)
  local applied, ids, jobs = {}, {}, nil
  for k, item in ipairs(items) do
    local ev = item.ev
    if before[k] or ids[ev.i] then
      results[item.pos] = 0
    else
      local ok, res = pcall(transitionWorker, ev, new)
      if ok then
        if res then jobs = res end
        applied[#applied + 1] = item
        ids[ev.i] = true
        results[item.pos] = 1
        queueFeed(item.pos, 'worker', ev, { machineId = ev.m, workerId = ev.w, serviceType = ev.s, connectorId = ev.c })
      else
        results[item.pos] = errText(res)
      end
    end
  end
  if #applied == 0 then return end
  local ok, res = pcall(writeWorker, wk, hk, old, new, applied, jobs)
  if not ok then
    for _, item in ipairs(applied) do results[item.pos] = errText(res) end
    dropFeed(applied)
  end
end
`;

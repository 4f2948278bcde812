/**
 * The worker part of the apply-events script: applies one `worker.*` event to the worker
 * registry. Heartbeats replace the worker's current jobs only when newer than the last one, so
 * a late heartbeat cannot resurrect finished jobs. Liveness is judged on read from the times.
 * Returns 1 (applied) or 0 (duplicate). Uses the helpers of common.lua.ts.
 */
export const APPLY_WORKER_LUA = String.raw`
local WORKER_FIELDS = { 'startedAt', 'stoppedAt', 'lastHeartbeatAt', 'heartbeatIntervalMs', 'version',
  'pid', 'concurrency', 'lastEventId', 'lastEventType', 'lastEventAt' }

local function replaceJobs(jobsKey, jobs)
  redis.call('DEL', jobsKey)
  local n = 0
  for _, id in ipairs(jobs or {}) do
    if n >= MAX_WORKER_JOBS then break end
    redis.call('SADD', jobsKey, id)
    n = n + 1
  end
  redis.call('PEXPIRE', jobsKey, retentionMs)
end

local function applyWorker(ev)
  local hk0 = base .. 'worker:' .. ev.m .. '/' .. ev.w
  if not firstTime(hk0 .. ':seen', ev) then return 0 end
  local _, hk = touchWorker(ev)
  local jobsKey = hk .. ':jobs'
  local old = load(hk, WORKER_FIELDS)
  local new = {}
  for k, v in pairs(old) do new[k] = v end
  local lastBeat = tonumber(old.lastHeartbeatAt) or 0
  if ev.t == 'worker.started' then
    new.startedAt = maxText(old.startedAt, ev.ts)
    if ev.ve then new.version = ev.ve end
    if ev.pid then new.pid = fmt(ev.pid) end
    if ev.cc then new.concurrency = fmt(ev.cc) end
    if ev.hi then new.heartbeatIntervalMs = fmt(ev.hi) end
    -- A (re)started worker runs nothing yet, unless a newer heartbeat says otherwise.
    if ev.ts >= lastBeat then replaceJobs(jobsKey, {}) end
  elseif ev.t == 'worker.heartbeat' then
    if ev.ts >= lastBeat then
      new.lastHeartbeatAt = fmt(ev.ts)
      new.heartbeatIntervalMs = fmt(ev.hi)
      replaceJobs(jobsKey, ev.cj)
    end
  elseif ev.t == 'worker.stopped' then
    new.stoppedAt = maxText(old.stoppedAt, ev.ts)
    if ev.ts >= lastBeat then replaceJobs(jobsKey, {}) end
  end
  if ev.ts >= (tonumber(old.lastEventAt) or 0) then
    new.lastEventId = ev.i
    new.lastEventType = ev.t
    new.lastEventAt = fmt(ev.ts)
  end
  writeDiff(hk, WORKER_FIELDS, old, new)
  feed('worker', ev, { machineId = ev.m, workerId = ev.w, serviceType = ev.s, connectorId = ev.c }, false)
  return 1
end
`;

/**
 * The job state machine of the apply-events script, in memory only (no Redis calls): applies
 * one `job.*` (or job-bound `log`) event to a job record table. The group part
 * (apply-job.lua.ts) loads the record once, runs every event of the call through here in
 * arrival order and writes the result once.
 *
 * Rules: within an attempt the state only moves up the rank
 * (received 1 < running 2 < failed-with-retry 3 < retrying 4 < completed/failed/cancelled 5)
 * and progress only grows; a later attempt resets the attempt's fields and supersedes; events
 * of an older attempt still count (timeline, event count, usage) but change no state.
 *
 * A new run under an attempt number already used supersedes too: a job re-added with the id
 * of one that ran before (BullMQ counts its attempts from 1 again), or retried with
 * `resetAttemptsStarted`. Each run has its own span; the record keeps its run's (`_rsp`: the
 * span of the attempt's first event, or of its received). A `job.received` or `job.started` of
 * another span, of the record's attempt number or a lower one, after the recorded run ended
 * (rank 3 or more) and not before that end, starts a new run (`rerun`). From then on an event of
 * another span from before that start (`_rts`) belongs to a run it replaced (`superseded`) and
 * counts as an older attempt's. Only a run's start starts one: a late end of a run that stalled
 * (its worker, blocked past its lock, finishing after BullMQ re-ran the job elsewhere), a failure
 * another worker reports (BullMQ failed the job without running it), a stalled report or any log
 * line come with a span of their own after the recorded end, and are none.
 * Uses the helpers of common.lua.ts.
 */
export const JOB_TRANSITION_LUA = String.raw`
local JOB_FIELDS = { 'id', 'state', 'rank', 'attempt', 'queue', 'name', 'machineId', 'workerId',
  'serviceType', 'connectorId', 'instance', 'enqueuedAt', 'receivedAt', 'startedAt', 'finishedAt',
  'updatedAt', 'durationMs', 'queueWaitMs', 'progress', 'stage', 'model', 'provider', 'operation',
  'timeToFirstTokenMs', 'lastError', 'willRetry', 'nextAttempt', 'traceId', 'spanId',
  'lastEventId', 'lastEventType', 'eventCount', 'inputTokens', 'outputTokens', 'cachedTokens',
  'reasoningTokens', 'gpuSeconds', 'costUsd', '_ttl', '_ix', '_rsp', '_rts',
  '_ua', '_uas', '_uss', '_uit', '_uot', '_uct', '_urt', '_ugs', '_uco' }
-- Cleared when a new attempt starts.
local ATTEMPT_FIELDS = { 'receivedAt', 'startedAt', 'finishedAt', 'durationMs', 'queueWaitMs',
  'progress', 'stage', 'willRetry', 'nextAttempt' }
local RANK = { ['job.received'] = 1, ['job.started'] = 2, ['job.progress'] = 2,
  ['job.retrying'] = 4, ['job.completed'] = 5, ['job.cancelled'] = 5 }
local STATE = { ['job.received'] = 'received', ['job.started'] = 'running', ['job.progress'] = 'running',
  ['job.retrying'] = 'retrying', ['job.completed'] = 'completed', ['job.cancelled'] = 'cancelled',
  ['job.failed'] = 'failed' }

local function rankOf(ev)
  -- A run BullMQ put back (rate-limited, delayed, waiting): it will run again, as after a retry.
  if ev.pk then return 4 end
  if ev.t == 'job.failed' then
    if ev.wr == true then return 3 end
    return 5
  end
  return RANK[ev.t] or 0
end

-- Fields of the attempt the event belongs to (same or newer attempt only).
local function applyAttemptFields(ev, new, relation)
  if relation ~= 'same' then new.attempt = fmt(ev.a) end
  -- A log line about the attempt is no sign of who runs it: the stalled report comes from the
  -- worker whose stalled check found it, not from the one that ran (and died with) the attempt.
  -- Taking its sender would hide the orphan and move the job's worker without moving its current
  -- jobs; it names the worker only of an attempt nothing else named yet. Nor is a failure of a
  -- started attempt that another worker sends: BullMQ fails a job that stalled (or started) too
  -- often on the next fetch, without running it, and the worker that fetched it reports that
  -- failure; the attempt ran, and died, on the worker that started it.
  local sender = ev.m ~= new.machineId or ev.w ~= new.workerId
  local reported = relation == 'same' and new.machineId ~= nil
    and (ev.t == 'log' or (ev.t == 'job.failed' and new.startedAt ~= nil and sender))
  if not reported then
    new.machineId, new.workerId, new.serviceType, new.connectorId = ev.m, ev.w, ev.s, ev.c
    if ev.inst then new.instance = ev.inst end
  end
  if ev.q then new.queue = ev.q end
  if ev.n then new.name = ev.n end
  if ev.tr then new.traceId, new.spanId = ev.tr, ev.sp end
  if ev.ea then new.enqueuedAt = fmt(ev.ea) end
  if ev.qw then new.queueWaitMs = fmt(ev.qw) end
  local rank, curRank = rankOf(ev), tonumber(new.rank) or 0
  if rank > curRank then
    new.state, new.rank = ev.pk and 'retrying' or STATE[ev.t], fmt(rank)
    if rank == 3 or rank == 5 then
      new.finishedAt = ev.tx
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

-- Model fields: an older attempt's event only fills what is still unknown.
local function applyModel(ev, relation, new)
  if ev.mo and (relation ~= 'older' or new.model == nil) then new.model = ev.mo end
  if ev.pv and (relation ~= 'older' or new.provider == nil) then new.provider = ev.pv end
  if ev.op and (relation ~= 'older' or new.operation == nil) then new.operation = ev.op end
  if ev.tf and relation ~= 'older' then new.timeToFirstTokenMs = fmt(ev.tf) end
end

-- The run ev belongs to, against the record's: 'newer', 'same' or 'older' attempt; 'rerun' for
-- the first event of a new run under an attempt number already used, 'superseded' for an event
-- of a run a rerun replaced (see the top of this file).
local function runRelation(ev, new)
  local curAttempt = tonumber(new.attempt)
  if curAttempt == nil then return 'newer' end
  local sp, rsp = ev.sp, new._rsp
  if sp ~= nil and rsp ~= nil and sp ~= rsp then
    if new._rts ~= nil and ev.ts < tonumber(new._rts) then return 'superseded' end
    if ev.a <= curAttempt and (ev.t == 'job.received' or ev.t == 'job.started') and (tonumber(new.rank) or 0) >= 3
        and ev.ts >= (tonumber(new.finishedAt) or tonumber(new.updatedAt) or 0) then
      return 'rerun'
    end
  end
  if ev.a > curAttempt then return 'newer' end
  if ev.a < curAttempt then return 'older' end
  return 'same'
end

-- Applies ev to the record table new (relation: runRelation's); returns true when the job's
-- worker side may have changed (a newer attempt or run, or a new state within the attempt).
local function transitionJob(ev, jobId, new, relation)
  if relation == 'rerun' then
    new._rts = ev.tx
    relation = 'newer'
  elseif relation == 'superseded' then
    relation = 'older'
  end
  -- The run's span: its first event's (a log line's only when nothing else named one), or its
  -- received's while the run has not ended.
  if ev.sp ~= nil and (new._rsp == nil or (ev.t ~= 'log' and relation == 'newer')
      or (relation == 'same' and ev.t == 'job.received' and (tonumber(new.rank) or 0) < 3)) then
    new._rsp = ev.sp
  end
  local prevState = new.state
  if relation == 'newer' then
    for _, f in ipairs(ATTEMPT_FIELDS) do new[f] = nil end
    new.rank, new.state = nil, nil
  end
  new.id = jobId
  if relation ~= 'older' then applyAttemptFields(ev, new, relation) end
  applyModel(ev, relation, new)
  if ev.ts >= (tonumber(new.updatedAt) or 0) then
    new.updatedAt, new.lastEventId, new.lastEventType = ev.tx, ev.i, ev.t
  end
  return relation == 'newer' or (relation == 'same' and new.state ~= prevState)
end
`;

import { APPLY_JOB_LUA } from './apply-job.lua.js';
import { APPLY_WORKER_LUA } from './apply-worker.lua.js';
import { COMMON_LUA } from './common.lua.js';
import { JOB_TRANSITION_LUA } from './job-transition.lua.js';

/**
 * apply-events: applies a batch of events to the job-status store, atomically per call.
 *
 * KEYS[1]  the feed stream `{<prefix>}:feed` (every other key is built from ARGV[1] and
 *          shares its hash tag, so the script stays in one cluster slot)
 * ARGV[1]  key base `{<prefix>}:`
 * ARGV[2]  retention of job/worker keys, ms
 * ARGV[3]  timeline cap, entries per job
 * ARGV[4]  feed cap (MAXLEN ~)
 * ARGV[5]  idempotency window: event ids remembered per job/worker
 * ARGV[6]  index refresh, ms of event time: how stale a job's update-time score may get from
 *          changes that move no index value (progress); 0 = always exact
 * ARGV[7…] one compact event JSON each (see to-script-event.ts)
 *
 * Its parts: common.lua.ts (settings, helpers), job-transition.lua.ts (the job state machine),
 * apply-job.lua.ts and apply-worker.lua.ts (one entity's group: read, apply, write).
 *
 * The events are grouped by entity (job, or worker for `worker.*`), groups taken in order of
 * first appearance, and each group is read once, applied in memory in arrival order and written
 * once. Then the workers that job events showed alive are touched, once each, and the feed
 * entries appended, in arrival order.
 *
 * Returns one entry per event: 1 applied, 0 duplicate (already applied), 2 ignored (nothing
 * to apply: a log line without a job), or an error string `ERR <message>` for that event alone.
 */
export const APPLY_EVENTS_LUA = [
  COMMON_LUA,
  JOB_TRANSITION_LUA,
  APPLY_JOB_LUA,
  APPLY_WORKER_LUA,
  String.raw`
-- Groups the call's events by entity, in order of first appearance.
local groups, order = {}, {}
for pos = FIRST_EVENT_ARG, #ARGV do
  local out = pos - FIRST_EVENT_ARG + 1
  local ok, ev = pcall(cjson.decode, ARGV[pos])
  if not ok then
    results[out] = errText(ev)
  else
    ev.tx = fmt(ev.ts) -- the time as stored text, formatted once
    local key
    if string.sub(ev.t, 1, 4) == 'job.' or (ev.t == 'log' and ev.j) then key = 'j' .. ev.j
    elseif string.sub(ev.t, 1, 7) == 'worker.' then key = 'w' .. ev.m .. '/' .. ev.w end
    if key == nil then
      results[out] = 2
    else
      local g = groups[key]
      if g == nil then
        g = {}
        groups[key] = g
        order[#order + 1] = key
      end
      g[#g + 1] = { pos = out, ev = ev }
    end
  end
end

for _, key in ipairs(order) do
  local id = string.sub(key, 2)
  local ok, res
  if string.sub(key, 1, 1) == 'j' then ok, res = pcall(applyJobGroup, id, groups[key])
  else ok, res = pcall(applyWorkerGroup, id, groups[key]) end
  if not ok then
    for _, item in ipairs(groups[key]) do results[item.pos] = errText(res) end
  end
end

flushTouches()

for pos = 1, #ARGV - FIRST_EVENT_ARG + 1 do
  local q = feedQueue[pos]
  if q then
    local ok, res = pcall(appendFeed, q)
    if not ok then results[pos] = errText(res) end
  end
end
return results
`,
].join('\n');

/** Number of fixed ARGV entries before the events. */
export const APPLY_EVENTS_FIXED_ARGS = 6;

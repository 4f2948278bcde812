import { APPLY_JOB_LUA } from './apply-job.lua.js';
import { APPLY_WORKER_LUA } from './apply-worker.lua.js';
import { COMMON_LUA } from './common.lua.js';

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
 * ARGV[6…] one compact event JSON each (see to-script-event.ts)
 *
 * Returns one entry per event: 1 applied, 0 duplicate (already applied), 2 ignored (nothing
 * to apply: a log line without a job), or an error string `ERR <message>` for that event alone.
 */
export const APPLY_EVENTS_LUA = [
  COMMON_LUA,
  APPLY_JOB_LUA,
  APPLY_WORKER_LUA,
  String.raw`
local function applyOne(ev)
  local prefix = string.sub(ev.t, 1, 4)
  if prefix == 'job.' or (ev.t == 'log' and ev.j) then return applyJob(ev) end
  if string.sub(ev.t, 1, 7) == 'worker.' then return applyWorker(ev) end
  return 2
end

local out = {}
for i = 6, #ARGV do
  local ev = cjson.decode(ARGV[i])
  local ok, res = pcall(applyOne, ev)
  if ok then
    out[#out + 1] = res
  else
    if type(res) == 'table' then res = res.err end
    -- Forget the id so that a retry applies the event instead of calling it a duplicate.
    local seenKey = ev.j and (base .. 'job:' .. ev.j .. ':seen') or (base .. 'worker:' .. ev.m .. '/' .. ev.w .. ':seen')
    pcall(redis.call, 'ZREM', seenKey, ev.i)
    out[#out + 1] = 'ERR ' .. tostring(res)
  end
end
return out
`,
].join('\n');

/** Number of fixed ARGV entries before the events. */
export const APPLY_EVENTS_FIXED_ARGS = 5;

/**
 * prune-index: removes up to ARGV[3] members older than the cutoff from one index, and with
 * them (for the all-jobs and workers indexes) the expired job's or worker's own keys.
 *
 * KEYS[1]  the index (a sorted set scored by last update, Unix ms)
 * ARGV[1]  key base `{<prefix>}:`
 * ARGV[2]  cutoff, Unix ms: members scored below it are expired
 * ARGV[3]  most members to remove in this call (bounds the time Redis is busy)
 * ARGV[4]  kind: `all` (all-jobs index), `workers` (worker registry) or `value` (per-value index)
 *
 * Returns { removed, remaining } where remaining is the index size afterwards; an emptied
 * per-value index is dropped from the registry `{<prefix>}:idx:keys`.
 */
export const PRUNE_INDEX_LUA = String.raw`
local index, base, kind = KEYS[1], ARGV[1], ARGV[4]
local members = redis.call('ZRANGE', index, '-inf', '(' .. ARGV[2], 'BYSCORE', 'LIMIT', 0, tonumber(ARGV[3]))
for _, m in ipairs(members) do
  redis.call('ZREM', index, m)
  if kind == 'all' then
    redis.call('ZREM', base .. 'idx:lex', m)
    local jk = base .. 'job:' .. m
    redis.call('UNLINK', jk, jk .. ':tl', jk .. ':seen')
  elseif kind == 'workers' then
    local wk = base .. 'worker:' .. m
    redis.call('UNLINK', wk, wk .. ':jobs', wk .. ':seen')
  end
end
local remaining = redis.call('ZCARD', index)
if kind == 'value' and remaining == 0 then redis.call('SREM', base .. 'idx:keys', index) end
return { #members, remaining }
`;

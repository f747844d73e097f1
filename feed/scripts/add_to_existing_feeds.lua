-- Add one video to many feeds, but only to feeds that exist (built and not expired),
-- trimming each to the cap. Returns how many feeds took it.
-- KEYS: feed key, meta key, feed key, meta key, ... (pairs, one per user)
-- ARGV: score, feed id, cap
-- include: _trim.lua
local added = 0
local cap = tonumber(ARGV[3])
for i = 1, #KEYS, 2 do
  local meta = KEYS[i + 1]
  if redis.call('EXISTS', meta) == 1 then
    redis.call('ZADD', KEYS[i], ARGV[1], ARGV[2])
    trim(KEYS[i], function() return redis.call('HGET', meta, 'floor') end,
         function(value) redis.call('HSET', meta, 'floor', value) end, cap)
    added = added + 1
  end
end
return added

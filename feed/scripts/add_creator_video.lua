-- A big creator's recent-videos set: add one and trim to the cap.
-- KEYS: set, floor key
-- ARGV: score, feed id, cap
-- include: _trim.lua
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
trim(KEYS[1], function() return redis.call('GET', KEYS[2]) end,
     function(value) redis.call('SET', KEYS[2], value) end, tonumber(ARGV[3]))
return 1

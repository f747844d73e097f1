-- Replace a feed (a rebuild) but keep what fan-out added since the rebuild started
-- (score >= ARGV[1]), so a concurrent publish is never lost. Returns the feed's size.
-- KEYS: feed, meta, big
-- ARGV: keep-from score, cap, ttl, floor of the rebuilt entries ("0": none), built_at,
--       number of big creators k, k creator ids, then score/member pairs
-- include: _trim.lua
local kept = redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], '+inf', 'WITHSCORES')
redis.call('DEL', KEYS[1], KEYS[3])
local k = tonumber(ARGV[6])
for i = 7, 6 + k do redis.call('SADD', KEYS[3], ARGV[i]) end
if k > 0 then redis.call('EXPIRE', KEYS[3], ARGV[3]) end
for i = 7 + k, #ARGV, 2 do redis.call('ZADD', KEYS[1], ARGV[i], ARGV[i + 1]) end
for i = 1, #kept, 2 do redis.call('ZADD', KEYS[1], kept[i + 1], kept[i]) end
redis.call('HSET', KEYS[2], 'built_at', ARGV[5], 'floor', ARGV[4])
trim(KEYS[1], function() return redis.call('HGET', KEYS[2], 'floor') end,
     function(value) redis.call('HSET', KEYS[2], 'floor', value) end, tonumber(ARGV[2]))
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[3])
return redis.call('ZCARD', KEYS[1])

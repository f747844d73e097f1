-- READ_PAGE (read_page.lua) on Redis Cluster, where a script may touch only its KEYS (one
-- slot): the user's own keys and whether their flags hash (same hash tag) is built; the
-- caller then reads the creators' sets and floors, the cards, the flags and the seen state
-- of merged entries, and counts the hit.
-- KEYS: feed, meta, big, seen[, flags]
-- ARGV: max score, count, ttl, today
local built = redis.call('EXISTS', KEYS[2])
local flags_built = 0
if KEYS[5] then flags_built = redis.call('HEXISTS', KEYS[5], 'built') end
local own = redis.call('ZREVRANGEBYSCORE', KEYS[1], ARGV[1], '-inf', 'WITHSCORES', 'LIMIT', 0, ARGV[2])
local floor = redis.call('HGET', KEYS[2], 'floor') or '0'
local creators = redis.call('SMEMBERS', KEYS[3])
local seen = {}
for i = 1, #own, 2 do
  if redis.call('ZSCORE', KEYS[4], own[i]) then table.insert(seen, own[i]) end
end
local touch = 0
if built == 1 and redis.call('HGET', KEYS[2], 'read_day') ~= ARGV[4] then
  redis.call('HSET', KEYS[2], 'read_day', ARGV[4])
  for i = 1, #KEYS do redis.call('EXPIRE', KEYS[i], ARGV[3]) end
  touch = 1
end
return {built, own, creators, touch, seen, floor, flags_built}

-- Fragment (included by the scripts that trim a sorted set; no KEYS or ARGV of its own).
-- trim(key, floor_get, floor_set, cap): trim a sorted set to its cap, remembering through
-- floor_set the highest score trimmed away: above the floor the set is exact, below it
-- readers continue in SQL. Scores are kept as the strings Redis gives (integral
-- microseconds), never through Lua's number formatting.
local function trim(key, floor_get, floor_set, cap)
  local size = redis.call('ZCARD', key)
  if size <= cap then return end
  local removed = redis.call('ZRANGE', key, 0, size - cap - 1, 'WITHSCORES')
  local top = removed[#removed]
  local floor = floor_get()
  if (not floor) or tonumber(top) > tonumber(floor) then floor_set(top) end
  redis.call('ZREMRANGEBYRANK', key, 0, size - cap - 1)
end

-- A token's cache entry and its user's write position, in one round trip. Reads a key
-- named from a value (the user id), so the durable Redis must not be a Redis Cluster (it
-- is one primary with Sentinel).
-- KEYS: the token entry
-- ARGV: the write-position key before the user id, the key after it
local entry = redis.call('GET', KEYS[1])
if not entry then return {false, false} end
local user_id = string.match(entry, '^(%d+)|')
if not user_id then return {entry, false} end
return {entry, redis.call('GET', ARGV[1] .. user_id .. ARGV[2])}

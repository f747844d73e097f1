-- Add fields to a flags hash while the lease is still ours; on the last batch mark the
-- hash built. Returns 0 when the lease was lost (a change or another rebuild came first).
-- KEYS: hash
-- ARGV: lease token, ttl, last ("1"/"0"), fields...
if redis.call('HGET', KEYS[1], 'lease') ~= ARGV[1] then return 0 end
for i = 4, #ARGV do redis.call('HSET', KEYS[1], ARGV[i], '1') end
if ARGV[3] == '1' then
  redis.call('HDEL', KEYS[1], 'lease')
  redis.call('HSET', KEYS[1], 'built', '1')
  redis.call('EXPIRE', KEYS[1], ARGV[2])
end
return 1

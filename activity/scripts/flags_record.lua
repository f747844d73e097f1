-- Change one field of a built flags hash and cancel any rebuild in progress.
-- KEYS: hash
-- ARGV: field, "1" (set) or "0" (delete)
if redis.call('HEXISTS', KEYS[1], 'built') == 1 then
  if ARGV[2] == '1' then redis.call('HSET', KEYS[1], ARGV[1], '1') else redis.call('HDEL', KEYS[1], ARGV[1]) end
end
redis.call('HDEL', KEYS[1], 'lease')
return 1

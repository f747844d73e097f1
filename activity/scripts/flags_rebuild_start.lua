-- Start a rebuild of a flags hash: a fresh hash holding only the lease.
-- KEYS: hash
-- ARGV: lease token, seconds
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'lease', ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 1

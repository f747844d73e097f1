-- Replace a sorted set in one step (a reader sees the old set or the new one; no members:
-- deleted); ``discovery.store`` publishes hashtag pools with it, pipelined, on Redis
-- Cluster too (where a pipeline cannot RENAME a staging key into place).
-- KEYS: set
-- ARGV: ttl seconds, then score/member pairs
redis.call('DEL', KEYS[1])
for i = 2, #ARGV, 2 do redis.call('ZADD', KEYS[1], ARGV[i], ARGV[i + 1]) end
if #ARGV > 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return 1

-- Write a viewer's hidden-users set if absent (a reader's rebuild) or always (after a
-- change). Returns 0 when it was present and left alone.
-- KEYS: set
-- ARGV: "1" to overwrite, ttl, members...
if ARGV[1] ~= '1' and redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('DEL', KEYS[1])
for i = 3, #ARGV do redis.call('SADD', KEYS[1], ARGV[i]) end
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 1

-- Take the pending counter deltas to apply: a left-over ``processing`` batch if there is
-- one, else ``pending`` renamed to ``processing`` atomically. Returns it (flat HGETALL).
-- KEYS: pending, processing
-- ARGV: none
if redis.call('EXISTS', KEYS[2]) == 1 then
  return redis.call('HGETALL', KEYS[2])
end
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {}
end
redis.call('RENAME', KEYS[1], KEYS[2])
return redis.call('HGETALL', KEYS[2])

-- One round trip for a page: whether the feed is built, the floor (the highest score below
-- which the feed or one of the followed big creators' sets was trimmed: above it their
-- union is exactly what the follows imply; below it the caller continues in SQL), and the
-- feed's entries below the cursor merged with those of every big creator the user follows.
-- It counts the read as a hit, and on the first read of a day renews the feed's expiry and
-- says so (touch = 1), so the caller records the user as active. (It reads creator, card
-- and stats keys it is not given in KEYS: fine on one Redis; on Redis Cluster ``feed.page_store``
-- runs READ_OWN_PAGE and reads the rest by slot instead.)
--
-- Without a card key template (ARGV[8] ""): every source's first ``count`` rows (``own``,
-- ``merged``), which of them the user has watched (``seen``), and the cut: the highest last
-- score among the sources that returned a full ``count`` (below it one of them may hold more
-- this call did not return, so the caller reads again from there).
--
-- With one (a warm page in one round trip): a k-way merge walks the union newest first by
-- (score, member), deduplicated (members compared as numbers: feed ids stay below 2^53,
-- exact in a Lua double, see ``videos.models.FEED_ID_MAX``), above the floor and strictly
-- after the cursor (ARGV[1], ARGV[11]). Each source is read lazily, a few rows at a time
-- (ARGV[12] from each big creator's set, doubling), so a user following many big creators
-- reads about the page, not ``count`` rows of every creator and a sort of them all: the
-- walk is exact without a cut. Skipping watched rows, it reads each card (JSON bytes
-- prefixed "<owner id> ", "-" when not public, see ``videos.selectors``) and the viewer's
-- flags for it from their hash (ARGV[9], see ``activity.flags``: "l:<feed id>",
-- "f:<feed id>", "u:<owner>"), until ARGV[10] public cards are found or ``count`` rows are
-- walked. It returns the walked rows as ``own`` (``merged`` empty), the watched ones among
-- them as ``seen``, and as the cut the score of the first row left out (the caller reads
-- again below it; "0": the sources ran out). The caller still applies its exactness rules.
-- With a fifth key (the viewer's hidden-users set, ``activity.relations``: same slot) it also
-- returns that set's members, so the page needs no round trip of its own for them.
-- Called through ``feed.page_store.PageScriptArgs`` (named fields, in this order).
-- KEYS: feed, meta, big, seen[, hidden]
-- ARGV: max score (inclusive, or +inf), count, creator key template, ttl seconds, today,
--       stats key, creator floor key template, card key template ("" for no cards), flags
--       key, cards wanted, cursor member ("" for none), rows first read from each big
--       creator's set (with cards)
local built = redis.call('EXISTS', KEYS[2])
local floor = redis.call('HGET', KEYS[2], 'floor') or '0'
local creators = redis.call('SMEMBERS', KEYS[3])
local function creator_key(template, creator) return (string.gsub(template, '<id>', creator)) end
if #creators > 0 then
  local floor_keys = {}
  for i, creator in ipairs(creators) do floor_keys[i] = creator_key(ARGV[7], creator) end
  for _, creator_floor in ipairs(redis.call('MGET', unpack(floor_keys))) do
    if creator_floor and tonumber(creator_floor) > tonumber(floor) then floor = creator_floor end
  end
end
local touch = 0
if built == 1 then
  redis.call('HINCRBY', ARGV[6], 'hits', 1)
  if redis.call('HGET', KEYS[2], 'read_day') ~= ARGV[5] then
    redis.call('HSET', KEYS[2], 'read_day', ARGV[5])
    for i = 1, 4 do redis.call('EXPIRE', KEYS[i], ARGV[4]) end
    if ARGV[9] and ARGV[9] ~= '' then redis.call('EXPIRE', ARGV[9], ARGV[4]) end
    touch = 1
  end
end
local hidden = {}
if KEYS[5] then hidden = redis.call('SMEMBERS', KEYS[5]) end
local any_seen = redis.call('EXISTS', KEYS[4]) == 1

if built == 1 and ARGV[8] and ARGV[8] ~= '' then
  local low, count, wanted = tonumber(floor), tonumber(ARGV[2]), tonumber(ARGV[10])
  local top, before = tonumber(ARGV[1]), ARGV[11] ~= '' and tonumber(ARGV[11])
  local sources = {{key = KEYS[1], batch = wanted + 2}}
  for _, creator in ipairs(creators) do
    sources[#sources + 1] = {key = creator_key(ARGV[3], creator), batch = tonumber(ARGV[12])}
  end
  for _, source in ipairs(sources) do source.rows, source.at, source.offset = {}, 1, 0 end
  local taken = {}
  local function eligible(member, score)
    return not taken[member] and (not before or score < top or tonumber(member) < before)
  end
  -- Read a source's next rows into its buffer; false when it has none left.
  local function fill(source)
    if source.spent then return false end
    local rows = redis.call('ZREVRANGEBYSCORE', source.key, ARGV[1], '-inf', 'WITHSCORES',
                            'LIMIT', source.offset, source.batch)
    source.offset, source.spent = source.offset + source.batch, #rows < 2 * source.batch
    source.batch = source.batch * 2
    for _, value in ipairs(rows) do table.insert(source.rows, value) end
    return #rows > 0
  end
  -- Where in its buffer the next row of a source is that the walk may take; nil once it has
  -- none left above the floor. Redis orders a tie by member as text, the walk by number:
  -- within a tie the greatest eligible member comes first.
  local function head(source)
    if source.below_floor then return nil end
    local score
    while true do
      if source.at > #source.rows and not fill(source) then return nil end
      score = tonumber(source.rows[source.at + 1])
      if score <= low then
        source.below_floor = true
        return nil
      end
      if eligible(source.rows[source.at], score) then break end
      source.at = source.at + 2
    end
    local best, i = source.at, source.at + 2
    while (i <= #source.rows or fill(source)) and source.rows[i + 1] == source.rows[source.at + 1] do
      if eligible(source.rows[i], score) and tonumber(source.rows[i]) > tonumber(source.rows[best]) then best = i end
      i = i + 2
    end
    return best
  end
  local own, seen, cards, cut, found = {}, {}, {}, '0', 0
  local flags_built = redis.call('HEXISTS', ARGV[9], 'built')
  while true do
    local member, score_text, score = nil, nil, nil
    for _, source in ipairs(sources) do
      local index = head(source)
      if index then
        local candidate, candidate_score = source.rows[index], tonumber(source.rows[index + 1])
        if not member or candidate_score > score
            or (candidate_score == score and tonumber(candidate) > tonumber(member)) then
          member, score_text, score = candidate, source.rows[index + 1], candidate_score
        end
      end
    end
    if not member then break end
    if found >= wanted or #own >= 2 * count then
      cut = score_text
      break
    end
    taken[member] = true
    table.insert(own, member)
    table.insert(own, score_text)
    if any_seen and redis.call('ZSCORE', KEYS[4], member) then
      table.insert(seen, member)
    else
      local card = redis.call('GET', (string.gsub(ARGV[8], '<id>', member)))
      local bits = ''
      local owner = card and string.match(card, '^(%d+) ')
      if owner then
        found = found + 1
        if flags_built == 1 then
          local f = redis.call('HMGET', ARGV[9], 'l:' .. member, 'f:' .. member, 'u:' .. owner)
          bits = (f[1] and '1' or '0') .. (f[2] and '1' or '0') .. (f[3] and '1' or '0')
        end
      end
      table.insert(cards, member)
      table.insert(cards, card or '')
      table.insert(cards, bits)
    end
  end
  return {built, own, {}, touch, seen, floor, cut, cards, flags_built, hidden}
end

local own = redis.call('ZREVRANGEBYSCORE', KEYS[1], ARGV[1], '-inf', 'WITHSCORES', 'LIMIT', 0, ARGV[2])
local cut = '0'
local function note_cut(rows)
  if #rows == 2 * tonumber(ARGV[2]) and tonumber(rows[#rows]) > tonumber(cut) then cut = rows[#rows] end
end
note_cut(own)
local merged = {}
for _, creator in ipairs(creators) do
  local rows = redis.call('ZREVRANGEBYSCORE', creator_key(ARGV[3], creator), ARGV[1], '-inf', 'WITHSCORES',
                          'LIMIT', 0, ARGV[2])
  for _, value in ipairs(rows) do table.insert(merged, value) end
  note_cut(rows)
end
-- Which of them were watched: one ZMSCORE per source, none when nothing was ever marked seen.
local seen = {}
if any_seen then
  for _, rows in ipairs({own, merged}) do
    local members = {}
    for i = 1, #rows, 2 do members[#members + 1] = rows[i] end
    if #members > 0 then
      local scores = redis.call('ZMSCORE', KEYS[4], unpack(members))
      for j = 1, #members do if scores[j] then table.insert(seen, members[j]) end end
    end
  end
end
return {built, own, merged, touch, seen, floor, cut, {}, 0, hidden}

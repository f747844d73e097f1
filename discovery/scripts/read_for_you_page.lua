-- One round trip for a warm For You page (``discovery.store``, which owns the list keys):
-- the version to page (the cursor's while its list exists or is current, else the current
-- one from the start), then its rows from the offset, skipping the viewer's hidden users
-- (the set's "b:<id>"/"m:<id>" members) and seen videos, until ARGV[4] rows whose card is
-- public or not cached are found; with a card key template (ARGV[5]) each
-- such row's cached card (JSON bytes prefixed "<owner id> ", "-" when not public: skipped,
-- see ``videos.selectors``), and when the viewer's flags hash is built, their flag bits
-- ("lfu", see ``activity.flags``). A row is "<feed id> <owner id> <rank JSON>". Cards are
-- read through a template, not KEYS: on Redis Cluster (other slots) the caller passes ""
-- and reads them itself; the list key is built from its template in the viewer's slot.
-- KEYS: current, seen, flags, hidden users
-- ARGV: list key template ("<version>"), cursor version ("" for none), offset, rows wanted,
--       card key template ("" for none), rows per read
-- Returns {version ("": no list, build it), next offset, list length, rows
-- (position, feed id, owner id, rank, card, bits; six per row), hidden members, flags built}.
local current = redis.call('GET', KEYS[1])
local version, offset = ARGV[2], tonumber(ARGV[3])
local function list_key(v) return (string.gsub(ARGV[1], '<version>', v)) end
if version ~= '' and version ~= current and redis.call('EXISTS', list_key(version)) == 0 then
  version, offset = '', 0
end
if version == '' then
  if not current then return {'', 0, 0, {}, {}, 0} end
  version = current
end
local list = list_key(version)
local length = redis.call('LLEN', list)
local hidden_members = redis.call('SMEMBERS', KEYS[4])
local hidden = {}
for _, member in ipairs(hidden_members) do
  local id = string.match(member, '^[bm]:(%d+)$')
  if id then hidden[id] = true end
end
local flags_built = redis.call('HEXISTS', KEYS[3], 'built')
local any_seen = redis.call('EXISTS', KEYS[2]) == 1
local wanted, batch, found, rows = tonumber(ARGV[4]), tonumber(ARGV[6]), 0, {}
local position = offset
while found < wanted and position < length do
  local chunk = redis.call('LRANGE', list, position, position + batch - 1)
  local parsed, ids = {}, {}
  for i, row in ipairs(chunk) do
    local feed_id, owner, rank = string.match(row, '^(%d+) (%d+) (.*)$')
    parsed[i] = {feed_id, owner, rank}
    ids[i] = feed_id
  end
  local seen = {}
  if any_seen and #ids > 0 then seen = redis.call('ZMSCORE', KEYS[2], unpack(ids)) end
  for i, row in ipairs(parsed) do
    position = position + 1
    local feed_id, owner = row[1], row[2]
    if not hidden[owner] and not seen[i] then
      local card = ''
      if ARGV[5] ~= '' then card = redis.call('GET', (string.gsub(ARGV[5], '<id>', feed_id))) or '' end
      if card ~= '-' then
        found = found + 1
        local bits = ''
        if flags_built == 1 then
          local f = redis.call('HMGET', KEYS[3], 'l:' .. feed_id, 'f:' .. feed_id, 'u:' .. owner)
          bits = (f[1] and '1' or '0') .. (f[2] and '1' or '0') .. (f[3] and '1' or '0')
        end
        for _, value in ipairs({position - 1, feed_id, owner, row[3], card, bits}) do table.insert(rows, value) end
      end
    end
    if found >= wanted then break end
  end
  if #chunk < batch then break end
end
return {version, position, length, rows, hidden_members, flags_built}

-- session-redis: prepended to every script (scripts.rs). The value header (layout.rs):
-- tag '1' (unbound) or '2' (bound), version (20 digits), accessed-at and expires-at
-- (sign and 19 digits each), then for tag '2' the bound user's key (64 hex digits).
-- Spelt out: building the patterns with string.rep on every call costs about a quarter
-- of a script's run time.
local V =
  '^[12]%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d[+-]%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d[+-]%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d$'
local HEX =
  '^%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x$'

-- The header `head` read by GETRANGE 0 124 of a session: nil if there is no such key
-- (empty); false if its value is in no layout this release knows; else the deadline
-- (ms), the 20-digit version field and the bound user's key ('' when unbound).
local function parse_head(head)
  if #head == 0 then
    return nil
  end
  if not string.find(string.sub(head, 1, 61), V) then
    return false
  end
  local user = ''
  if string.byte(head, 1) == 50 then
    user = string.sub(head, 62, 125)
    if not string.find(user, HEX) then
      return false
    end
  end
  return tonumber(string.sub(head, 42, 61)), string.sub(head, 2, 21), user
end

-- parse_head of the session at `key`. Reads 125 bytes at most, never the envelope.
local function read_head(key)
  return parse_head(redis.call('GETRANGE', key, 0, 124))
end

-- Makes the index at `index` outlive the deadline `pxat` (ms): never shortens it.
local function stretch(index, pxat)
  if redis.call('PEXPIRETIME', index) < tonumber(pxat) then
    redis.call('PEXPIREAT', index, pxat)
  end
end

-- Files the session at KEYS[1] in the index at `index`, which then outlives `pxat`.
-- Members are the storage keys' hex, all of score 0, so ZRANGEBYLEX pages in key order.
local function file(index, pxat)
  redis.call('ZADD', index, 0, string.sub(KEYS[1], -64))
  stretch(index, pxat)
end

-- After a write of KEYS[1] that left `old` ('' unbound) for `new`: on a standalone
-- server (`inline` '1') moves the session between the two indexes here, inside the
-- write's script (the old index's name is made from the session key's prefix and
-- `old`; KEYS[2] is the new one); on a cluster (`inline` '0'), where another slot
-- cannot be written here, answers {code, old} when the caller must unfile it from
-- `old`'s index (the caller filed it under `new` before the write).
local function refile(code, old, new, pxat, inline)
  if inline == '1' then
    if old ~= '' and old ~= new then
      redis.call('ZREM', string.sub(KEYS[1], 1, -65) .. 'user:' .. old, string.sub(KEYS[1], -64))
    end
    if new ~= '' then
      file(KEYS[2], pxat)
    end
    return code
  end
  if old ~= '' and old ~= new then
    return {code, old}
  end
  return code
end

-- session-redis: compare-and-set save that never resurrects (contract rules 4 and 5).
-- Touches KEYS[1] only, so it runs on Redis Cluster.
--
-- KEYS[1]  the session's key
-- ARGV[1]  the expected version, as the header's 20-digit field
-- ARGV[2]  now, in ms, by the store's clock
-- ARGV[3]  the new value (header + envelope)
-- ARGV[4]  the new deadline for PXAT, in ms
--
-- Returns 1 saved, 0 missing or expired, -1 stale version, -2 not a v1 value.
--
-- Only the 61-byte header is read: a large envelope is never copied into Lua.
--
-- V1, the v1 header's pattern, comes from v1_header.lua, prepended by scripts.rs.
local head = redis.call('GETRANGE', KEYS[1], 0, 60)
if #head == 0 then
  return 0
end
if not string.find(head, V1) then
  return -2
end
local expires = tonumber(string.sub(head, 42, 61))
-- The server has not dropped the key yet, but by the store's clock it has expired.
if expires <= tonumber(ARGV[2]) then
  return 0
end
-- Compared as text: exact for every u64, where Lua numbers are doubles.
if string.sub(head, 2, 21) ~= ARGV[1] then
  return -1
end
redis.call('SET', KEYS[1], ARGV[3], 'PXAT', ARGV[4])
return 1

-- session-redis: extend a live session's deadline without rewriting its data or version.
-- Touches KEYS[1] only, so it runs on Redis Cluster.
--
-- KEYS[1]  the session's key
-- ARGV[1]  now, in ms, by the store's clock
-- ARGV[2]  the header's accessed-at and expires-at fields, 40 bytes back to back
-- ARGV[3]  the new deadline for PEXPIREAT, in ms
--
-- Returns 1 touched, 0 missing or expired, -2 not a v1 value.
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
if expires <= tonumber(ARGV[1]) then
  return 0
end
-- In place: the data and version after the header stay exactly as the last save left
-- them, so a touch racing a save cannot roll the save back.
redis.call('SETRANGE', KEYS[1], 21, ARGV[2])
redis.call('PEXPIREAT', KEYS[1], ARGV[3])
return 1

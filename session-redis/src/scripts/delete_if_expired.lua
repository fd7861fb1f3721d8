-- session-redis: delete a session only if it has expired by the store's clock, for admin
-- tools that scanned it as expired: a record extended or re-created since survives.
-- Touches KEYS[1] only, so it runs on Redis Cluster.
--
-- KEYS[1]  the session's key
-- ARGV[1]  now, in ms, by the store's clock
--
-- Returns 1 deleted, 0 missing, live, or not a v1 value (left alone).
--
-- V1, the v1 header's pattern, comes from v1_header.lua, prepended by scripts.rs.
local head = redis.call('GETRANGE', KEYS[1], 0, 60)
if #head == 0 then
  return 0
end
if not string.find(head, V1) then
  return 0
end
local expires = tonumber(string.sub(head, 42, 61))
if expires > tonumber(ARGV[1]) then
  return 0
end
redis.call('UNLINK', KEYS[1])
return 1

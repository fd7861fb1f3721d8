-- session-redis: delete a session only if it has expired by the store's clock, for admin
-- tools that scanned it as expired: a record extended or re-created since survives.
-- Touches KEYS[1] only, so it runs on Redis Cluster.
--
-- KEYS[1]  the session's key
-- ARGV[1]  now, in ms, by the store's clock
--
-- Returns 1 deleted, 0 missing, live, or not a v1 value (left alone).
--
-- The v1 header (layout.rs): tag '1', version (20 digits), accessed-at and expires-at
-- (sign and 19 digits each).
local V1 =
  '^1%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d[+-]%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d[+-]%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d$'
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

-- session-redis: the second half of create, run only when `SET NX` found the id taken.
-- A leftover that has expired by the store's clock (the server's clock has not dropped it
-- yet) is garbage and does not block its id; a live record does. Touches KEYS[1] only.
--
-- KEYS[1]  the session's key
-- ARGV[1]  now, in ms, by the store's clock
-- ARGV[2]  the new value (header + envelope)
-- ARGV[3]  the deadline for PXAT, in ms
--
-- Returns 1 created, 0 a live record (or a value this layout does not know) holds the id.
--
-- V1, the v1 header's pattern, comes from v1_header.lua, prepended by scripts.rs.
local head = redis.call('GETRANGE', KEYS[1], 0, 60)
if #head > 0 then
  if not string.find(head, V1) then
    return 0
  end
  local expires = tonumber(string.sub(head, 42, 61))
  if expires > tonumber(ARGV[1]) then
    return 0
  end
end
redis.call('SET', KEYS[1], ARGV[2], 'PXAT', ARGV[3])
return 1

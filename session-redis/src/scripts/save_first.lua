-- session-redis: compare-and-set save (this part runs first, then header.lua, then
-- save.lua) that never resurrects (contract rules 4 and 5),
-- and keeps the user index exact (rule 12).
--
-- KEYS[1]  the session's key
-- KEYS[2]  standalone and bound only: the new user's index
-- ARGV[1]  the expected version, as the header's 20-digit field; '' any version
-- ARGV[2]  now, in ms, by the store's clock, as the header writes times (sign, 19 digits)
-- ARGV[3]  the new value (header + envelope)
-- ARGV[4]  the new deadline for PXAT, in ms
-- ARGV[5]  the new user's key hex, '' when unbound
-- ARGV[6]  '1' standalone: keep the indexes here; '0' cluster: the caller does
--
-- Returns 1 saved, 0 missing or expired, -1 stale version, -2 not a known layout; on a
-- cluster {1, old user} when the save unbound or rebound the session.
--
-- Only the header is read: a large envelope is never copied into Lua (the new value
-- is, as ARGV[3]: that copy is the floor of any scripted save).
local head = redis.call('GETRANGE', KEYS[1], 0, 124)
-- The common case, first and with the least work, before the shared helpers are even
-- defined: an unbound session saved unbound at the version it holds, live by the
-- store's clock. The tag and the 20 version digits matching byte for byte, and a
-- positive deadline after now (both '+' and 19 digits, so compared as text), are all
-- of the layout a write that replaces the whole value needs; anything else takes the
-- full check in save.lua.
if ARGV[5] == '' and string.byte(head, 1) == 49 and string.byte(head, 42) == 43
    and string.sub(head, 2, 21) == ARGV[1] and string.sub(head, 42, 61) > ARGV[2] then
  redis.call('SET', KEYS[1], ARGV[3], 'PXAT', ARGV[4])
  return 1
end

-- session-redis: extend a live session's deadline without rewriting its data or
-- version. This part runs first, then header.lua, then touch.lua.
-- Touches KEYS[1] only (and on a standalone server the index of the user the stored
-- header names, so that the index outlives the session).
--
-- KEYS[1]  the session's key
-- ARGV[1]  now, in ms, by the store's clock, as the header writes times (sign, 19 digits)
-- ARGV[2]  the header's accessed-at and expires-at fields, 40 bytes back to back
-- ARGV[3]  the new deadline for PEXPIREAT, in ms
-- ARGV[4]  the user's key hex the caller believes bound ('' unbound)
-- ARGV[5]  '1' standalone: stretch the index here; '0' cluster: the caller does
--
-- Returns 1 touched, 0 missing or expired, -2 not a known layout; on a cluster {1, user}
-- when the stored binding is not the one the caller believes.
local head = redis.call('GETRANGE', KEYS[1], 0, 124)
-- The common case with the least work, before the shared helpers are defined: an
-- unbound session (tag '1') with a positive deadline after now (both '+' and 19 digits,
-- so compared as text). Only the two timestamps are rewritten, so of the rest of the
-- header only the accessed-at sign is checked here (a value someone else wrote is
-- never written into).
if string.byte(head, 1) == 49 and string.byte(head, 42) == 43
    and string.byte(head, 22) == 43 and string.sub(head, 42, 61) > ARGV[1] then
  redis.call('SETRANGE', KEYS[1], 21, ARGV[2])
  redis.call('PEXPIREAT', KEYS[1], ARGV[3])
  return 1
end

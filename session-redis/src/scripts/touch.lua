-- session-redis: extend a live session's deadline without rewriting its data or version.
-- Touches KEYS[1] only (and on a standalone server the index of the user the stored
-- header names, so that the index outlives the session).
--
-- KEYS[1]  the session's key
-- ARGV[1]  now, in ms, by the store's clock
-- ARGV[2]  the header's accessed-at and expires-at fields, 40 bytes back to back
-- ARGV[3]  the new deadline for PEXPIREAT, in ms
-- ARGV[4]  the user's key hex the caller believes bound ('' unbound)
-- ARGV[5]  '1' standalone: stretch the index here; '0' cluster: the caller does
--
-- Returns 1 touched, 0 missing or expired, -2 not a known layout; on a cluster {1, user}
-- when the stored binding is not the one the caller believes.
local expires, _, user = read_head(KEYS[1])
if expires == nil then
  return 0
end
if expires == false then
  return -2
end
if expires <= tonumber(ARGV[1]) then
  return 0
end
-- In place: the data and version after the header stay exactly as the last save left
-- them, so a touch racing a save cannot roll the save back.
redis.call('SETRANGE', KEYS[1], 21, ARGV[2])
redis.call('PEXPIREAT', KEYS[1], ARGV[3])
if user ~= '' then
  if ARGV[5] == '1' then
    stretch(string.sub(KEYS[1], 1, -65) .. 'user:' .. user, ARGV[3])
  elseif user ~= ARGV[4] then
    return {1, user}
  end
end
return 1

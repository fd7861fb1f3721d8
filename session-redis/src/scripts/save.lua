-- session-redis: compare-and-set save that never resurrects (contract rules 4 and 5),
-- and keeps the user index exact (rule 12).
--
-- KEYS[1]  the session's key
-- KEYS[2]  standalone and bound only: the new user's index
-- ARGV[1]  the expected version, as the header's 20-digit field
-- ARGV[2]  now, in ms, by the store's clock
-- ARGV[3]  the new value (header + envelope)
-- ARGV[4]  the new deadline for PXAT, in ms
-- ARGV[5]  the new user's key hex, '' when unbound
-- ARGV[6]  '1' standalone: keep the indexes here; '0' cluster: the caller does
--
-- Returns 1 saved, 0 missing or expired, -1 stale version, -2 not a known layout; on a
-- cluster {1, old user} when the save unbound or rebound the session.
--
-- Only the header is read: a large envelope is never copied into Lua.
local expires, version, old = read_head(KEYS[1])
if expires == nil then
  return 0
end
if expires == false then
  return -2
end
-- The server has not dropped the key yet, but by the store's clock it has expired.
if expires <= tonumber(ARGV[2]) then
  return 0
end
-- Compared as text: exact for every u64, where Lua numbers are doubles.
if version ~= ARGV[1] then
  return -1
end
redis.call('SET', KEYS[1], ARGV[3], 'PXAT', ARGV[4])
return refile(1, old, ARGV[5], ARGV[4], ARGV[6])

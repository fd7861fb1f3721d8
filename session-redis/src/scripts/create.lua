-- session-redis: create, where a plain `SET NX` does not do: the id is taken (a leftover
-- expired by the store's clock, which the server has not dropped yet, is garbage and
-- does not block its id; a live record does), or the record is bound to a user on a
-- standalone server (the session is filed in the user's index in the same script).
--
-- KEYS[1]  the session's key
-- KEYS[2]  standalone and bound only: the new user's index
-- ARGV[1]  now, in ms, by the store's clock
-- ARGV[2]  the new value (header + envelope)
-- ARGV[3]  the deadline for PXAT, in ms
-- ARGV[4]  the new user's key hex, '' when unbound
-- ARGV[5]  '1' standalone: keep the indexes here; '0' cluster: the caller does
--
-- Returns 1 created, 0 a live record (or a value this layout does not know) holds the
-- id; on a cluster {1, old user} when the overwritten leftover was bound to another user.
local expires, _, old = read_head(KEYS[1])
if expires == false then
  return 0
end
if expires ~= nil and expires > tonumber(ARGV[1]) then
  return 0
end
redis.call('SET', KEYS[1], ARGV[2], 'PXAT', ARGV[3])
return refile(1, old or '', ARGV[4], ARGV[3], ARGV[5])

-- session-redis, Redis Cluster: delete a session only if its header binds it to the
-- given user (revoke_user, revoke_session). The caller unfiles it afterwards.
--
-- KEYS[1]  the session's key
-- ARGV[1]  the user's key hex
-- ARGV[2]  now, in ms, by the store's clock
--
-- Returns 1 deleted a live session, 2 deleted an expired one, 0 missing, -1 bound to
-- someone else, unbound, or not a known layout (kept).
local expires, _, user = read_head(KEYS[1])
if expires == nil then
  return 0
end
if expires == false or user ~= ARGV[1] then
  return -1
end
redis.call('UNLINK', KEYS[1])
if expires > tonumber(ARGV[2]) then
  return 1
end
return 2

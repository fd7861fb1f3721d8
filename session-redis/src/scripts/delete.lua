-- session-redis: the delete script after its fast path (delete_first.lua, which says
-- what the arguments and the answer are) and the shared helpers (header.lua): a bound
-- session, unfiled on a standalone server from the index of the user its header names,
-- or a delete only if expired.
local expires, _, user = read_head(KEYS[1])
if expires == nil then
  return 0
end
if ARGV[2] ~= '' and (expires == false or expires > tonumber(ARGV[2])) then
  return 0
end
redis.call('UNLINK', KEYS[1])
return refile(1, user or '', '', 0, ARGV[1])

-- session-redis: delete a session and, on a standalone server, unfile it from the index
-- of the user its header names.
--
-- KEYS[1]  the session's key
-- ARGV[1]  '1' standalone: unfile here; '0' cluster: the caller does
-- ARGV[2]  '' delete in any case; else now (ms, by the store's clock): delete only if
--          expired by then (admin tools that scanned it as expired: a record extended
--          or re-created since survives)
--
-- Returns 1 deleted, 0 missing (or kept: live, or not a known layout, with ARGV[2]); on
-- a cluster {1, user} when the deleted session was bound.
local expires, _, user = read_head(KEYS[1])
if expires == nil then
  return 0
end
if ARGV[2] ~= '' and (expires == false or expires > tonumber(ARGV[2])) then
  return 0
end
redis.call('UNLINK', KEYS[1])
return refile(1, user or '', '', 0, ARGV[1])

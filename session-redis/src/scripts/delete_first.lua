-- session-redis: delete a session. This part runs first, then header.lua, then
-- delete.lua.
--
-- KEYS[1]  the session's key
-- ARGV[1]  '1' standalone: unfile here; '0' cluster: the caller does
-- ARGV[2]  '' delete in any case; else now (ms, by the store's clock): delete only if
--          expired by then (admin tools that scanned it as expired: a record extended
--          or re-created since survives)
--
-- Returns 1 deleted, 0 missing (or kept: live, or not a known layout, with ARGV[2]); on
-- a cluster {1, user} when the deleted session was bound.
--
-- The common case with the least work, before the shared helpers are defined: a plain
-- delete (a logout) of an unbound session (tag '1', no index to unfile), or of nothing.
if ARGV[2] == '' then
  local tag = redis.call('GETRANGE', KEYS[1], 0, 0)
  if tag == '' then
    return 0
  end
  if tag == '1' then
    redis.call('UNLINK', KEYS[1])
    return 1
  end
end

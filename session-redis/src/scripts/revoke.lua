-- session-redis, standalone: one batch of revoke_user or revoke_session, atomic with
-- the index. Each session is deleted only if its header binds it to the user; members
-- whose session is gone or bound elsewhere are stale and leave the index.
--
-- KEYS[1]     the user's index
-- KEYS[2..n]  the sessions' keys (the index's members, read by the caller)
-- ARGV[1]     the user's key hex
-- ARGV[2]     now, in ms, by the store's clock
-- ARGV[3]     '1': only a member of the index counts (revoke_session); '0': any
--
-- Returns how many live sessions went.
local live = 0
for i = 2, #KEYS do
  local member = string.sub(KEYS[i], -64)
  if ARGV[3] == '0' or redis.call('ZSCORE', KEYS[1], member) then
    local expires, _, user = read_head(KEYS[i])
    if expires and user == ARGV[1] then
      redis.call('UNLINK', KEYS[i])
      if expires > tonumber(ARGV[2]) then
        live = live + 1
      end
      redis.call('ZREM', KEYS[1], member)
    elseif expires == nil or (expires ~= false and user ~= ARGV[1]) then
      redis.call('ZREM', KEYS[1], member)
    end
  end
end
return live

-- session-redis, standalone: remove the stale members of a user's index (their session
-- is gone, or no longer bound to the user), atomically with the check.
--
-- KEYS[1]     the user's index
-- KEYS[2..n]  the sessions' keys to check (members of the index)
-- ARGV[1]     the user's key hex
--
-- Returns how many members went.
local removed = 0
for i = 2, #KEYS do
  local expires, _, user = read_head(KEYS[i])
  if expires == nil or (expires ~= false and user ~= ARGV[1]) then
    removed = removed + redis.call('ZREM', KEYS[1], string.sub(KEYS[i], -64))
  end
end
return removed

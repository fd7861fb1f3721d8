-- session-redis, Redis Cluster: file a session in a user's index before the session is
-- written bound to that user (another slot), or only stretch the index's lifetime.
--
-- KEYS[1]  the user's index
-- ARGV[1]  the deadline the index must outlive, in ms
-- ARGV[2]  the session's storage key hex, or absent to only stretch
--
-- Returns 1.
if ARGV[2] then
  redis.call('ZADD', KEYS[1], 0, ARGV[2])
end
stretch(KEYS[1], ARGV[1])
return 1

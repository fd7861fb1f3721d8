-- session-redis: the save script after its fast path (save_first.lua) and the shared
-- helpers (header.lua): the full header check, the version, the user index. `head`
-- is the header save_first.lua read.
local expires, version, old = parse_head(head)
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
-- Compared as text: exact for every u64, where Lua numbers are doubles. '' (the
-- last-writer-wins mode, bound sessions) takes any version.
if ARGV[1] ~= '' and version ~= ARGV[1] then
  return -1
end
redis.call('SET', KEYS[1], ARGV[3], 'PXAT', ARGV[4])
return refile(1, old, ARGV[5], ARGV[4], ARGV[6])

-- session-redis: the touch script after its fast path (touch_first.lua) and the
-- shared helpers (header.lua). `head` is the header touch_first.lua read.
local expires, _, user = parse_head(head)
if expires == nil then
  return 0
end
if expires == false then
  return -2
end
if expires <= tonumber(ARGV[1]) then
  return 0
end
-- In place: the data and version after the header stay exactly as the last save left
-- them, so a touch racing a save cannot roll the save back.
redis.call('SETRANGE', KEYS[1], 21, ARGV[2])
redis.call('PEXPIREAT', KEYS[1], ARGV[3])
if user ~= '' then
  if ARGV[5] == '1' then
    stretch(string.sub(KEYS[1], 1, -65) .. 'user:' .. user, ARGV[3])
  elseif user ~= ARGV[4] then
    return {1, user}
  end
end
return 1

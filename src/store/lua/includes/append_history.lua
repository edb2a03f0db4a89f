--[[
  Adds `entry` ("<at ms>|<what>") to the record's history as the next field h1, h2, …
]]
--- @include "put"
local function append_history(rec, entry)
  local n = 1
  while redis.call('HEXISTS', rec, 'h' .. n) == 1 do n = n + 1 end
  put(rec, 'h' .. n, entry)
end

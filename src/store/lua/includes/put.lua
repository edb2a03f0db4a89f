--[[
  Sets the value of `name` in the record hash `rec`, in pieces, and deletes the pieces a longer old value left.
]]
--- @include "pieces"
local function put(rec, name, v)
  local out = {}
  local i = pieces(out, name, v)
  redis.call('HSET', rec, unpack(out))
  while redis.call('HDEL', rec, name .. '+' .. i) == 1 do i = i + 1 end
end

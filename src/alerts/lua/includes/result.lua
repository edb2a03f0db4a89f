--[[
  The reply of an applied change, also kept under the applied-event key: "<alert id>|<seq>|<created>|<resolved>"
  (created and resolved '1' or '0').
]]
local function result(id, seq, created, resolved)
  return id .. '|' .. seq .. '|' .. created .. '|' .. resolved
end

--[[
  The reply of an applied change, also kept under the applied-event key:
  "<alert id>|<seq>|<created>|<resolved>|<next level>" (created and resolved '1' or '0'; next level the escalation
  step the change set up, 0 when none: see "steps").
]]
local function result(id, seq, created, resolved, nextLevel)
  return id .. '|' .. seq .. '|' .. created .. '|' .. resolved .. '|' .. nextLevel
end

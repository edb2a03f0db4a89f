--[[
  Appends one entry to an alert's audit trail (a list of JSON objects: at, who, action, note).
]]
local function audit(key, at, who, action, note)
  redis.call('RPUSH', key, cjson.encode({ at = tonumber(at), who = who, action = action, note = note }))
end

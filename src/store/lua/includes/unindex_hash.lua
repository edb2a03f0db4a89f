--[[
  Removes the short id from its msgHash's field in the index bucket; the field goes with its last id.
]]
local function unindex_hash(bucket, field, short)
  local cur = redis.call('HGET', bucket, field)
  if not cur then return end
  local rest = {}
  for s in string.gmatch(cur, '[^,]+') do if s ~= short then rest[#rest + 1] = s end end
  if #rest == 0 then redis.call('HDEL', bucket, field) else redis.call('HSET', bucket, field, table.concat(rest, ',')) end
end

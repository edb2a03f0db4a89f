--[[
  Adds the short id to its msgHash's field in the index bucket (a comma-separated list, see keys.ts msgHashBucket),
  unless it is there already.
]]
local function index_hash(bucket, field, short)
  local cur = redis.call('HGET', bucket, field)
  if not cur then
    redis.call('HSET', bucket, field, short)
    return
  end
  for s in string.gmatch(cur, '[^,]+') do if s == short then return end end
  redis.call('HSET', bucket, field, cur .. ',' .. short)
end

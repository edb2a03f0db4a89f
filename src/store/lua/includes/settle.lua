--[[
  The common tail of creating a record and changing its status: a settled message whose block is still unsafe joins
  its chain's pending set, and a valid one its deadline set (`deadline` '' for the others; an existing deadline is
  kept).
]]
local function settle(rec, pending, deadlines, short, blockNumber, deadline)
  if redis.call('HGET', rec, 'sf') ~= 'unsafe' then return end
  redis.call('ZADD', pending, blockNumber, short)
  if deadline ~= '' then redis.call('ZADD', deadlines, 'NX', deadline, short) end
end

--[[
  An alert's messages. The alert's message set lists the first MESSAGE_IDS messages it was raised for (for operators
  and the API); past that, only the alert's count grows, so memory stays bounded however big the storm
  (docs/ARCHITECTURE.md §3, bounded memory). How many of its messages are not settled yet (cross-safe, or gone from
  the chain: replaced or reorged out) is the alert's `outstanding` counter: the alert resolves itself at 0. (An
  alert from before the counter has none: its set then held exactly its outstanding messages.)

  A message's index (…:alert:bymsg:<messageId>) names the last alert it raised: a message already counted in this
  alert is not counted again.
]]
local MESSAGE_IDS = 1000

local function outstanding_messages(alert, messages)
  local n = redis.call('HGET', alert, 'outstanding')
  if n then return tonumber(n) end
  return redis.call('SCARD', messages)
end

local function add_message(alert, messages, byMessage, id, messageId)
  if redis.call('GET', byMessage) == id or redis.call('SISMEMBER', messages, messageId) == 1 then return end
  redis.call('HSET', alert, 'outstanding', outstanding_messages(alert, messages) + 1)
  if redis.call('SCARD', messages) < MESSAGE_IDS then redis.call('SADD', messages, messageId) end
end

--[[
  Settles one of the alert's messages; false if it is not one of them. `vouched`: the message's index names this
  alert (the caller read it), which is how a message past the listed ones is known. A message settles once because
  the events that settle it have deterministic ids and are applied once (a promoted message is not reorged out of
  the unsafe chain, and a valid one is not replaced).
]]
local function settle_message(alert, messages, messageId, vouched)
  local n = outstanding_messages(alert, messages)
  if n == 0 or not (vouched or redis.call('SISMEMBER', messages, messageId) == 1) then return false end
  redis.call('HSET', alert, 'outstanding', n - 1)
  return true
end

--[[
  Creates the records of a slice of messages of one executing chain and indexes them, each unless its record exists
  (a slice checked again): createMessage-6.lua for many messages in one call, each index written once per call.

  Input:
    KEYS[1] statusCounts    the status gauge's counts, …:stats:status
    KEYS[2] pending         the executing chain's settled-but-not-cross-safe set, …:pending:<chain>
    KEYS[3] deadlines       the executing chain's promotion deadlines, …:deadlines:<chain>
    KEYS[4...] messageKeys  three per message, in order: its record …:m:<shortId>, its msgHash index bucket
                            …:h:<byte>, its source chain's index by identifier block …:bysource:<initiating chain>

    ARGV[1...] messages     per message, in the order of its keys: the number of values that follow for it, then
                            status, reason, historyEntry, statusField, shortId, sourceBlock, settled, executingBlock,
                            deadline, msgHashField (as in createMessage-6.lua), then its data fields as field/value
                            pairs (src/store/record.ts)

  Output:
    for each message, in order: 1 created; 0 its record existed, nothing written for it
]]
--- @include "pieces"
--- @include "index_hash"

local created = {}
local bySource, counts, pending, deadlines = {}, {}, {}, {}
local a, k = 1, 4
while a <= #ARGV do
  local count = tonumber(ARGV[a])
  local record, bucket, sourceIndex = KEYS[k], KEYS[k + 1], KEYS[k + 2]
  local status, reason, history, statusField, short = ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4], ARGV[a + 5]
  if redis.call('EXISTS', record) == 1 then
    created[#created + 1] = 0
  else
    local out = {}
    for i = a + 11, a + count, 2 do pieces(out, ARGV[i], ARGV[i + 1]) end
    pieces(out, 'st', status)
    pieces(out, 'rs', reason)
    pieces(out, 'sf', 'unsafe')
    pieces(out, 'h1', history)
    redis.call('HSET', record, unpack(out))
    index_hash(bucket, ARGV[a + 10], short)
    local members = bySource[sourceIndex] or {}
    members[#members + 1] = ARGV[a + 6]
    members[#members + 1] = short
    bySource[sourceIndex] = members
    counts[statusField] = (counts[statusField] or 0) + 1
    -- A new record is unsafe: a settled one joins pending, a valid one the deadlines too (settle.lua, batched).
    if ARGV[a + 7] == '1' then
      pending[#pending + 1] = ARGV[a + 8]
      pending[#pending + 1] = short
      if ARGV[a + 9] ~= '' then
        deadlines[#deadlines + 1] = ARGV[a + 9]
        deadlines[#deadlines + 1] = short
      end
    end
    created[#created + 1] = 1
  end
  a = a + count + 1
  k = k + 3
end
for index, members in pairs(bySource) do redis.call('ZADD', index, unpack(members)) end
for field, n in pairs(counts) do redis.call('HINCRBY', KEYS[1], field, n) end
if #pending > 0 then redis.call('ZADD', KEYS[2], unpack(pending)) end
if #deadlines > 0 then redis.call('ZADD', KEYS[3], 'NX', unpack(deadlines)) end
return created

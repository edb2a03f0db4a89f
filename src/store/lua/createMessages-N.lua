--[[
  Creates the records of a slice of messages of one executing chain and indexes them, each unless its record exists
  (a slice checked again): createMessage-6.lua for many messages in one call, each index written once per call.

  Input:
    KEYS[1] statusCounts    the status gauge's counts, …:stats:status
    KEYS[2] pending         the executing chain's settled-but-not-cross-safe set, …:pending:<chain>
    KEYS[3] deadlines       the executing chain's promotion deadlines, …:deadlines:<chain>
    KEYS[4...] messageKeys  three per message, in order: its record …:m:<shortId>, its msgHash index bucket
                            …:h:<byte>, its source chain's index by identifier block …:bysource:<initiating chain>

    ARGV[1] messages        a JSON array with one array of strings per message, in the order of its keys: status,
                            reason, historyEntry, statusField, shortId, sourceBlock, settled, executingBlock, deadline,
                            msgHashField (as in createMessage-6.lua), then its data fields as field/value pairs
                            (src/store/record.ts). One argument rather than ~40 per message: a slice of 500 took
                            20,000 arguments, whose encoding cost xmsg's Node thread more than the script cost Redis.

  Output:
    for each message, in order: 1 created; 0 its record existed, nothing written for it
]]
--- @include "pieces"
--- @include "index_hash"

local created = {}
local bySource, counts, pending, deadlines = {}, {}, {}, {}
for n, m in ipairs(cjson.decode(ARGV[1])) do
  local k = 4 + (n - 1) * 3
  local record, bucket, sourceIndex = KEYS[k], KEYS[k + 1], KEYS[k + 2]
  local status, reason, history, statusField, short = m[1], m[2], m[3], m[4], m[5]
  if redis.call('EXISTS', record) == 1 then
    created[n] = 0
  else
    local out = {}
    for i = 11, #m, 2 do pieces(out, m[i], m[i + 1]) end
    pieces(out, 'st', status)
    pieces(out, 'rs', reason)
    pieces(out, 'sf', 'unsafe')
    pieces(out, 'h1', history)
    redis.call('HSET', record, unpack(out))
    index_hash(bucket, m[10], short)
    local members = bySource[sourceIndex] or {}
    members[#members + 1] = m[6]
    members[#members + 1] = short
    bySource[sourceIndex] = members
    counts[statusField] = (counts[statusField] or 0) + 1
    -- A new record is unsafe: a settled one joins pending, a valid one the deadlines too (settle.lua, batched).
    if m[7] == '1' then
      pending[#pending + 1] = m[8]
      pending[#pending + 1] = short
      if m[9] ~= '' then
        deadlines[#deadlines + 1] = m[9]
        deadlines[#deadlines + 1] = short
      end
    end
    created[n] = 1
  end
end
for index, members in pairs(bySource) do redis.call('ZADD', index, unpack(members)) end
for field, n in pairs(counts) do redis.call('HINCRBY', KEYS[1], field, n) end
if #pending > 0 then redis.call('ZADD', KEYS[2], unpack(pending)) end
if #deadlines > 0 then redis.call('ZADD', KEYS[3], 'NX', unpack(deadlines)) end
return created

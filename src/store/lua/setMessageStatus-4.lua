--[[
  Sets a record's validity status and reason; a new status is counted and written to the history.

  Input:
    KEYS[1] record          the message's record hash, …:m:<shortId>
    KEYS[2] statusCounts    the status gauge's counts, …:stats:status
    KEYS[3] pending         its chain's settled-but-not-cross-safe set, …:pending:<chain>
    KEYS[4] deadlines       its chain's promotion deadlines, …:deadlines:<chain>

    ARGV[1] status          the new validity status
    ARGV[2] reason          why, in words (replaces the old reason even when the status stays)
    ARGV[3] historyEntry    the history entry of a change, "<at ms>|<what>"
    ARGV[4] oldStatusField  the caller's previous status's field in statusCounts
    ARGV[5] newStatusField  the new status's field in statusCounts
    ARGV[6] shortId         the record's short id
    ARGV[7] settled         '1' when the new status is final (not future or unknown)
    ARGV[8] executingBlock  the executing block number (score in pending)
    ARGV[9] deadline        promotion deadline in ms for a valid message, else ''

  Output:
    the status before the call; false (nil) when the record is gone, nothing written
]]
--- @include "put"
--- @include "append_history"
--- @include "settle"

local cur = redis.call('HGET', KEYS[1], 'st')
if not cur then return false end
put(KEYS[1], 'rs', ARGV[2])
if cur ~= ARGV[1] then
  redis.call('HSET', KEYS[1], 'st', ARGV[1])
  append_history(KEYS[1], ARGV[3])
  redis.call('HINCRBY', KEYS[2], ARGV[4], -1)
  redis.call('HINCRBY', KEYS[2], ARGV[5], 1)
end
if ARGV[7] == '1' then settle(KEYS[1], KEYS[3], KEYS[4], ARGV[6], ARGV[8], ARGV[9]) end
return cur

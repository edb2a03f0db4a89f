--[[
  Ends the tracking of a message: out of every index and the status counts; deleted at once when finalized, else
  kept with its new safety until its retention ends (then forgetMessage deletes it).

  Input:
    KEYS[1] record          the message's record hash, …:m:<shortId>
    KEYS[2] pending         its chain's settled-but-not-cross-safe set, …:pending:<chain>
    KEYS[3] safe            its chain's cross-safe set, …:safe:<chain>
    KEYS[4] deadlines       its chain's promotion deadlines, …:deadlines:<chain>
    KEYS[5] bySource        its source chain's index by identifier block, …:bysource:<initiating chain>
    KEYS[6] statusCounts    the status gauge's counts, …:stats:status
    KEYS[7] expiring        dropped records by delete-at time, …:expiring
    KEYS[8] msgHashBucket   the msgHash index bucket of its msgHash, …:h:<byte>

    ARGV[1] shortId         the record's short id
    ARGV[2] safety          the final safety: finalized, replaced or reorged
    ARGV[3] historyEntry    "<at ms>|safety <safety>: <note>"
    ARGV[4] statusField     its current status's field in statusCounts
    ARGV[5] deleteAt        when to delete the record, in ms; 0 deletes it now
    ARGV[6] msgHashField    its field in msgHashBucket

  Output:
    1 this call ended the tracking; 0 it had ended already (or the record is gone)
]]
--- @include "append_history"
--- @include "unindex_hash"

local sf = redis.call('HGET', KEYS[1], 'sf')
if sf ~= 'unsafe' and sf ~= 'cross-safe' then return 0 end
for i = 2, 5 do redis.call('ZREM', KEYS[i], ARGV[1]) end
redis.call('HINCRBY', KEYS[6], ARGV[4], -1)
if ARGV[5] == '0' then
  redis.call('DEL', KEYS[1])
  unindex_hash(KEYS[8], ARGV[6], ARGV[1])
else
  redis.call('HSET', KEYS[1], 'sf', ARGV[2])
  append_history(KEYS[1], ARGV[3])
  redis.call('ZADD', KEYS[7], ARGV[5], ARGV[1])
end
return 1

--[[
  Deletes one dropped record whose retention has ended, and its msgHash index entry.

  Input:
    KEYS[1] expiring        dropped records by delete-at time, …:expiring
    KEYS[2] record          the message's record hash, …:m:<shortId>
    KEYS[3] msgHashBucket   the msgHash index bucket of its msgHash (any key when the record is gone: not touched)

    ARGV[1] shortId         the record's short id
    ARGV[2] now             the time in ms; a record due later stays
    ARGV[3] msgHashField    its field in msgHashBucket; '' when the record is gone

  Output:
    1 this call deleted it; 0 it is not due (or was forgotten already)
]]
--- @include "unindex_hash"

local due = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not due or tonumber(due) > tonumber(ARGV[2]) then return 0 end
redis.call('DEL', KEYS[2])
if ARGV[3] ~= '' then unindex_hash(KEYS[3], ARGV[3], ARGV[1]) end
redis.call('ZREM', KEYS[1], ARGV[1])
return 1

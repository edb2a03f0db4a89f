--[[
  Creates a message record and indexes it, unless the record exists (a retried or duplicated check job).

  Input:
    KEYS[1] record          the message's record hash, …:m:<shortId>
    KEYS[2] msgHashBucket   the msgHash index bucket of its msgHash, …:h:<byte>
    KEYS[3] bySource        its source chain's index by identifier block, …:bysource:<initiating chain>
    KEYS[4] statusCounts    the status gauge's counts, …:stats:status
    KEYS[5] pending         its chain's settled-but-not-cross-safe set, …:pending:<chain>
    KEYS[6] deadlines       its chain's promotion deadlines, …:deadlines:<chain>

    ARGV[1] status          validity status
    ARGV[2] reason          why, in words
    ARGV[3] historyEntry    the first history entry, "<at ms>|<what>"
    ARGV[4] statusField     its field in statusCounts, "<executing>|<initiating>|<status>"
    ARGV[5] shortId         the record's short id, the member of every index
    ARGV[6] sourceBlock     the identifier's block number (score in bySource)
    ARGV[7] settled         '1' when the status is final (not future or unknown)
    ARGV[8] executingBlock  the executing block number (score in pending)
    ARGV[9] deadline        promotion deadline in ms for a valid message, else ''
    ARGV[10] msgHashField   its field in msgHashBucket
    ARGV[11...] dataFields  the record's data fields as field/value pairs (src/store/record.ts)

  Output:
    1 created; 0 the record existed, nothing written
]]
--- @include "pieces"
--- @include "index_hash"
--- @include "settle"

if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local out = {}
for i = 11, #ARGV, 2 do pieces(out, ARGV[i], ARGV[i + 1]) end
pieces(out, 'st', ARGV[1])
pieces(out, 'rs', ARGV[2])
pieces(out, 'sf', 'unsafe')
pieces(out, 'h1', ARGV[3])
redis.call('HSET', KEYS[1], unpack(out))
index_hash(KEYS[2], ARGV[10], ARGV[5])
redis.call('ZADD', KEYS[3], ARGV[6], ARGV[5])
redis.call('HINCRBY', KEYS[4], ARGV[4], 1)
if ARGV[7] == '1' then settle(KEYS[1], KEYS[5], KEYS[6], ARGV[5], ARGV[8], ARGV[9]) end
return 1

--[[
  Moves an unsafe message to cross-safe: out of pending and deadlines, into safe.

  Input:
    KEYS[1] record          the message's record hash, …:m:<shortId>
    KEYS[2] pending         its chain's settled-but-not-cross-safe set, …:pending:<chain>
    KEYS[3] safe            its chain's cross-safe set, …:safe:<chain>
    KEYS[4] deadlines       its chain's promotion deadlines, …:deadlines:<chain>

    ARGV[1] shortId         the record's short id
    ARGV[2] executingBlock  the executing block number (score in safe)
    ARGV[3] historyEntry    "<at ms>|safety cross-safe (…)"

  Output:
    1 this call promoted it; 0 it was not unsafe (already promoted, dropped, or gone)
]]
--- @include "append_history"

if redis.call('HGET', KEYS[1], 'sf') ~= 'unsafe' then return 0 end
redis.call('HSET', KEYS[1], 'sf', 'cross-safe')
append_history(KEYS[1], ARGV[3])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
return 1

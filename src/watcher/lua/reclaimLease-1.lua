--[[
  Takes over a lease held by an earlier run of this same replica (killed, then started again): its owner id is
  `<replica>|<run>`, the replica part stable across restarts (XMSG_REPLICA_ID), the run part new at each start. Asked
  once, at the replica's first attempt for the lease, so two processes misconfigured with one replica id take the
  lease from each other at most once each, and never both hold it: the cursor's fence still admits one owner.

  Input:
    KEYS[1] lease           the lease, …:lease:<chain>

    ARGV[1] owner           this run's owner id, `<replica>|<run>`
    ARGV[2] replica         this replica's stable id, the owner id's part before `|`
    ARGV[3] ttlMs           the lease's time to live, in ms

  Output:
    1 taken over from an earlier run of this replica; 0 the lease is free or another replica's
]]

local holder = redis.call('GET', KEYS[1])
if not holder or holder == ARGV[1] then return 0 end
local mine = ARGV[2] .. '|'
if string.sub(holder, 1, #mine) ~= mine then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
return 1

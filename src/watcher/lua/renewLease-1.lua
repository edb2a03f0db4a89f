--[[
  Extends a lease this owner holds.

  Input:
    KEYS[1] lease           the lease, …:lease:<chain>

    ARGV[1] owner           this replica's owner id
    ARGV[2] ttlMs           the new time to live, in ms

  Output:
    1 renewed; 0 the lease is free or another owner's
]]
--- @include "holds_lease"

if holds_lease(KEYS[1], ARGV[1]) then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0

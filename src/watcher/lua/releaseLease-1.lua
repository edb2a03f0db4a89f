--[[
  Gives up a lease this owner holds, so another replica takes over without waiting for it to expire.

  Input:
    KEYS[1] lease           the lease, …:lease:<chain>

    ARGV[1] owner           this replica's owner id

  Output:
    1 released; 0 the lease is free or another owner's (left as it is)
]]
--- @include "holds_lease"

if holds_lease(KEYS[1], ARGV[1]) then return redis.call('DEL', KEYS[1]) end
return 0

--[[
  Moves a chain's cursor back to the common ancestor of a reorg and forgets the recent blocks above it; only while
  this replica holds the chain's lease.

  Input:
    KEYS[1] lease           the chain's follower lease, …:lease:<chain>
    KEYS[2] cursor          the chain's cursor hash (number, hash), …:cursor:<chain>
    KEYS[3] recentBlocks    recent block hashes by number, …:blocks:<chain>

    ARGV[1] owner           this replica's owner id
    ARGV[2] number          the ancestor's block number
    ARGV[3] hash            the ancestor's hash

  Output:
    1 written; 0 the lease is not this owner's, nothing written
]]
--- @include "holds_lease"

if not holds_lease(KEYS[1], ARGV[1]) then return 0 end
redis.call('HSET', KEYS[2], 'number', ARGV[2], 'hash', ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '(' .. ARGV[2], '+inf')
return 1

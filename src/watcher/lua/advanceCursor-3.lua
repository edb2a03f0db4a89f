--[[
  Moves a chain's cursor forward to the last block whose logs were queued, records the hashes of the blocks read
  (for walking back a reorg) and trims the oldest; only while this replica holds the chain's lease.

  Input:
    KEYS[1] lease           the chain's follower lease, …:lease:<chain>
    KEYS[2] cursor          the chain's cursor hash (number, hash), …:cursor:<chain>
    KEYS[3] recentBlocks    recent block hashes by number, …:blocks:<chain>

    ARGV[1] owner           this replica's owner id
    ARGV[2] number          the new cursor block number
    ARGV[3] hash            its hash
    ARGV[4] trimBelow       recent blocks below this number are forgotten
    ARGV[5...] blocks       number/hash pairs of the blocks read

  Output:
    1 written; 0 the lease is not this owner's, nothing written
]]
--- @include "holds_lease"

if not holds_lease(KEYS[1], ARGV[1]) then return 0 end
redis.call('HSET', KEYS[2], 'number', ARGV[2], 'hash', ARGV[3])
for i = 5, #ARGV, 2 do redis.call('ZADD', KEYS[3], ARGV[i], ARGV[i + 1]) end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. ARGV[4])
return 1

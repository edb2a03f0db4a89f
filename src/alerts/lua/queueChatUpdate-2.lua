--[[
  Queues one alert update for the chat outbox of one platform, unless it was delivered there already: the update
  joins the alert's pending updates, which the next delivery of that alert posts merged into one reply. Queuing the
  same update twice (a retried event, a second replica) keeps one; queuing it again within a day of its delivery (as
  long as completed jobs and applied events are remembered) adds nothing.

  Input:
    KEYS[1] pending         the alert's updates not yet posted, …:chat:<platform>:<XM-n>:pending (zset by seq)
    KEYS[2] done            the seqs of its updates posted within a day, …:chat:<platform>:<XM-n>:done (zset by time)

    ARGV[1] seq             the update's change sequence
    ARGV[2] update          the update as the outbox stores it (JSON, the same text for the same update)
    ARGV[3] ttlS            how long both are kept after their last write, in s

  Output:
    1 queued; 0 already delivered or already pending
]]

if redis.call('ZSCORE', KEYS[2], ARGV[1]) then return 0 end
local added = redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return added

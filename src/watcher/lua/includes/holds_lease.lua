--[[
  The fence of a lease holder's writes: true while the lease key holds this owner (the lease is taken with
  SET NX PX in src/watcher/lease.ts; a replica that paused past its lease no longer holds it).
]]
local function holds_lease(lease, owner)
  return redis.call('GET', lease) == owner
end

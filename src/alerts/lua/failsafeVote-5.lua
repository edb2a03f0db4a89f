--[[
  The failsafe's two-person rule: one state change of a failsafe request (docs/ARCHITECTURE.md §3). A first on-call
  member's vote opens a request for one action (on or off); a second, different member's vote within the window
  confirms it and puts it in the dispatch set, from which each endpoint's call is queued (one BullMQ job per endpoint,
  id failsafe-<request>-<endpoint>); the same member again is refused; a vote after the window expires the request and
  does nothing else, and so does the first vote of another member in the window after it expired (they came to confirm
it: told it expired, their next vote asks anew). `expire` is the request's own timer; `auto` (XMSG_FAILSAFE_AUTO=violation) makes a request that
  is confirmed at once, under a deterministic id, so the same violation seen twice makes one.

  The caller reads the action's pending request first and passes the request hash of what it read (or of the next id
  when none is pending): the script answers -1, writing nothing, when that moved in between; the caller reads again.

  Input:
    KEYS[1] pending       the action's request awaiting confirmation, …:failsafe:pending:<on|off> (string id)
    KEYS[2] request       the request hash, …:failsafe:req:<id>: the pending one as read, or the new one's
    KEYS[3] seq           the request counter, …:failsafe:seq
    KEYS[4] dispatch      confirmed requests whose calls are to be queued, …:failsafe:dispatch (zset by time)
    KEYS[5] expired       the action's request that expired last, …:failsafe:expired:<on|off> ("<id>|<requester>", PX window)

    ARGV[1] op            vote, expire or auto
    ARGV[2] action        on or off
    ARGV[3] now           the time in ms
    ARGV[4] windowMs      how long a request waits for its confirmation (XMSG_FAILSAFE_CONFIRM_S)
    ARGV[5] voter         who votes, platform:userId ('xmsg' for auto)
    ARGV[6] voterName     their label, for the thread and the audit trail
    ARGV[7] reason        why (the request's reason; a confirmation's own words are only audited)
    ARGV[8] alertId       the alert the request is about, '' for none
    ARGV[9] readPending   the pending id the caller read ('' for none); for expire and auto, the request's id
    ARGV[10] requestId    the id KEYS[2] names
    ARGV[11] retentionS   how long a request is kept, in s

  Output:
    "requested|<id>"      a new request, waiting for a second member
    "confirmed|<id>"      confirmed now (vote: by a second member; auto: made so): its calls are to be queued
    "refused|<id>"        the voter is the one who asked: nothing changed
    "expired|<id>"        the request's window had passed: it is expired now, nothing called
    "late|<id>"           it had expired already (within a window): this vote, another member's, is refused
    "noop|<id>"           expire: not pending any more (confirmed or expired before); auto: made before
    "early|<id>"          expire: its window has not passed yet (a clock ahead): try later
    -1                    what the caller read moved: read again and retry
]]
local op = ARGV[1]
local now = tonumber(ARGV[3])
local id = ARGV[10]

if op == 'expire' then
  local status = redis.call('HGET', KEYS[2], 'status')
  if status ~= 'pending' then return 'noop|' .. id end
  if now < tonumber(redis.call('HGET', KEYS[2], 'expiresAt')) then return 'early|' .. id end
  redis.call('HSET', KEYS[2], 'status', 'expired', 'endedAt', ARGV[3])
  if redis.call('GET', KEYS[1]) == id then redis.call('DEL', KEYS[1]) end
  redis.call('SET', KEYS[5], id .. '|' .. redis.call('HGET', KEYS[2], 'requester'), 'PX', ARGV[4])
  return 'expired|' .. id
end

local function create(status)
  redis.call('HSET', KEYS[2], 'id', id, 'action', ARGV[2], 'status', status, 'requester', ARGV[5], 'requesterName', ARGV[6],
    'reason', ARGV[7], 'alertId', ARGV[8], 'createdAt', ARGV[3], 'expiresAt', now + tonumber(ARGV[4]))
  redis.call('EXPIRE', KEYS[2], ARGV[11])
end

if op == 'auto' then
  if redis.call('EXISTS', KEYS[2]) == 1 then return 'noop|' .. id end
  create('confirmed')
  redis.call('HSET', KEYS[2], 'confirmer', ARGV[5], 'confirmerName', ARGV[6], 'confirmedAt', ARGV[3])
  redis.call('ZADD', KEYS[4], now, id)
  return 'confirmed|' .. id
end

if op ~= 'vote' then return redis.error_reply('unknown op ' .. op) end
local current = redis.call('GET', KEYS[1]) or ''
if current ~= ARGV[9] then return -1 end

if current ~= '' then
  if redis.call('HGET', KEYS[2], 'status') ~= 'pending' then
    -- A request that vanished (retention) or ended without freeing the slot: free it, and the caller reads again.
    redis.call('DEL', KEYS[1])
    return -1
  end
  if now >= tonumber(redis.call('HGET', KEYS[2], 'expiresAt')) then
    redis.call('HSET', KEYS[2], 'status', 'expired', 'endedAt', ARGV[3])
    redis.call('DEL', KEYS[1])
    return 'expired|' .. id
  end
  if redis.call('HGET', KEYS[2], 'requester') == ARGV[5] then return 'refused|' .. id end
  redis.call('HSET', KEYS[2], 'status', 'confirmed', 'confirmer', ARGV[5], 'confirmerName', ARGV[6], 'confirmedAt', ARGV[3])
  redis.call('DEL', KEYS[1])
  redis.call('ZADD', KEYS[4], now, id)
  return 'confirmed|' .. id
end

if id ~= 'FS-' .. (tonumber(redis.call('GET', KEYS[3]) or '0') + 1) then return -1 end
local late = redis.call('GET', KEYS[5])
if late then
  redis.call('DEL', KEYS[5])
  local sep = string.find(late, '|', 1, true)
  if string.sub(late, sep + 1) ~= ARGV[5] then return 'late|' .. string.sub(late, 1, sep - 1) end
end
redis.call('INCR', KEYS[3])
create('pending')
redis.call('SET', KEYS[1], id)
return 'requested|' .. id

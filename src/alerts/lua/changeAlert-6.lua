--[[
  Applies one change to an existing alert: an operator's action or an automatic follow-up. The preconditions of each
  action are checked here, so two people pressing the same button at once make one change and the other is refused.

  The alert's dedup key is passed in KEYS (a resolved alert frees it, so the condition's next occurrence opens a new
  alert): the caller reads its name from the alert's `dedupKey` field, which never changes once the alert exists. The
  script answers -1, writing nothing, if the name passed is not that field's (the alert was created between that
  read and this call); the caller reads it again and calls again.

  Input:
    KEYS[1] alert           the alert hash, …:alert:<id>
    KEYS[2] audit           its audit trail, …:alert:<id>:audit
    KEYS[3] unresolved      alerts not resolved, …:alerts:unresolved
    KEYS[4] appliedEvent    the event's result once applied, …:alert:ev:<eventId> (not touched unless appliesEvent)
    KEYS[5] messages        its messages, …:alert:<id>:msgs
    KEYS[6] dedup           its dedup key, …:alert:dedup:<kind>-<chain>: deleted on resolve if it still names it
                            (the alert's own key when it has none: then not touched)

    ARGV[1] action          ack, resolve, escalate, timer, silence, unmute, promoted, recovered or note
    ARGV[2] now             the time in ms
    ARGV[3] who             the actor: a chat user's label, or xmsg
    ARGV[4] note            the audit note; for timer, the escalation level the timer is for
    ARGV[5] retentionS      how long a resolved alert is kept, in s
    ARGV[6] silenceId       the silence (silence)
    ARGV[7] messageId       the message that is now cross-safe (promoted)
    ARGV[8] appliesEvent    '1' when the change applies an event: applying it twice returns the first result

  Output:
    "<alert id>|<seq>|0|<resolved>" the result (the first one when the event was applied before)
    "refused|<reason>" the action does not apply now; the reason is shown to the operator
    -1 KEYS[6] is not the alert's dedup key: read it again and retry
]]
--- @include "audit"
--- @include "result"

if ARGV[8] == '1' then
  local done = redis.call('GET', KEYS[4])
  if done then return done end
end
local st = redis.call('HGET', KEYS[1], 'state')
if not st then return 'refused|unknown alert' end
local dedup = redis.call('HGET', KEYS[1], 'dedupKey')
if dedup and dedup ~= KEYS[6] then return -1 end
local action = ARGV[1]
local resolved = 0
local function resolve(who)
  redis.call('HSET', KEYS[1], 'state', 'resolved', 'resolvedBy', who, 'resolvedAt', ARGV[2])
  redis.call('ZREM', KEYS[3], redis.call('HGET', KEYS[1], 'id'))
  if dedup and redis.call('GET', KEYS[6]) == redis.call('HGET', KEYS[1], 'id') then redis.call('DEL', KEYS[6]) end
  for _, k in ipairs({ KEYS[1], KEYS[2], KEYS[5] }) do redis.call('EXPIRE', k, ARGV[5]) end
  resolved = 1
end
if action == 'ack' then
  if st == 'resolved' then return 'refused|already resolved' end
  if st == 'acknowledged' then return 'refused|already acknowledged by ' .. redis.call('HGET', KEYS[1], 'ackedBy') end
  redis.call('HSET', KEYS[1], 'state', 'acknowledged', 'ackedBy', ARGV[3])
elseif action == 'resolve' then
  if st == 'resolved' then return 'refused|already resolved by ' .. redis.call('HGET', KEYS[1], 'resolvedBy') end
  resolve(ARGV[3])
elseif action == 'escalate' then
  if st == 'resolved' then return 'refused|already resolved' end
  redis.call('HINCRBY', KEYS[1], 'escalationLevel', 1)
elseif action == 'timer' then
  -- An escalation timer fired: only an open, unmuted alert below that level escalates.
  if st ~= 'open' then return 'refused|' .. st end
  if redis.call('HGET', KEYS[1], 'silenceId') ~= '' then return 'refused|silenced' end
  if tonumber(redis.call('HGET', KEYS[1], 'escalationLevel')) >= tonumber(ARGV[4]) then return 'refused|already escalated' end
  redis.call('HSET', KEYS[1], 'escalationLevel', ARGV[4])
elseif action == 'silence' then
  if st == 'resolved' then return 'refused|already resolved' end
  redis.call('HSET', KEYS[1], 'silenceId', ARGV[6])
elseif action == 'unmute' then
  if redis.call('HGET', KEYS[1], 'silenceId') == '' then return 'refused|not silenced' end
  redis.call('HSET', KEYS[1], 'silenceId', '')
elseif action == 'promoted' then
  if redis.call('SREM', KEYS[5], ARGV[7]) == 0 then return 'refused|not part of this alert' end
  if st ~= 'resolved' and redis.call('SCARD', KEYS[5]) == 0 then resolve('xmsg') end
elseif action == 'recovered' then
  if st == 'resolved' then return 'refused|already resolved' end
  resolve('xmsg')
elseif action ~= 'note' then
  return 'refused|unknown action ' .. action
end
audit(KEYS[2], ARGV[2], ARGV[3], action, ARGV[4])
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
local r = result(redis.call('HGET', KEYS[1], 'id'), seq, 0, resolved)
if ARGV[8] == '1' then redis.call('SET', KEYS[4], r, 'EX', 86400) end
return r

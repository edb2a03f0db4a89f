--[[
  Applies one change to an existing alert: an operator's action or an automatic follow-up. The preconditions of each
  action are checked here, so two people pressing the same button at once make one change and the other is refused.

  The alert's dedup key is passed in KEYS (a resolved alert frees it, so the condition's next occurrence opens a new
  alert): the caller reads its name from the alert's `dedupKey` field, which never changes once the alert exists. The
  script answers -1, writing nothing, if the name passed is not that field's (the alert was created between that
  read and this call); the caller reads it again and calls again.

  Escalation: a timer's page (timer) and a manual escalation (escalate) move the alert to `level`; a manual one is
  refused within `debounceMs` of the last escalation, so two people pressing Escalate at once raise one level. When
  the alert is then open and unmuted (and after an unmute), the change sets up the next step (includes/steps.lua).
  Messages settle (promoted, replaced, reorged: includes/messages.lua); the last one resolves the alert as xmsg.

  Input:
    KEYS[1] alert           the alert hash, …:alert:<id>
    KEYS[2] audit           its audit trail, …:alert:<id>:audit
    KEYS[3] unresolved      alerts not resolved, …:alerts:unresolved
    KEYS[4] appliedEvent    the event's result once applied, …:alert:ev:<eventId> (not touched unless appliesEvent)
    KEYS[5] messages        the messages it lists, …:alert:<id>:msgs (includes/messages.lua)
    KEYS[6] dedup           its dedup key, …:alert:dedup:<kind>-<chain>: deleted on resolve if it still names it
                            (the alert's own key when it has none: then not touched)

    ARGV[1] action          ack, resolve, escalate, timer, silence, unmute, promoted, replaced, reorged, recovered or note
    ARGV[2] now             the time in ms
    ARGV[3] who             the actor: a chat user's label, or xmsg
    ARGV[4] note            the audit note
    ARGV[5] retentionS      how long a resolved alert is kept, in s
    ARGV[6] silenceId       the silence (silence); for unmute, the silence that ended ('' for any)
    ARGV[7] messageId       the message that settled (promoted, replaced, reorged)
    ARGV[8] appliesEvent    '1' when the change applies an event: applying it twice returns the first result
    ARGV[9] level           the escalation level the change moves to (timer, escalate)
    ARGV[10] debounceMs     escalate: refused this soon after the last escalation, in ms
    ARGV[11] vouched        '1' when the message's index names this alert (promoted, replaced, reorged)
    ARGV[12] resolveNote    the audit note of the automatic resolution, if the change resolves the alert
    ARGV[13] takesOverFrom  silence: the silence that ended, which this one takes over from while it still mutes the
                            alert ('' for a new silence of it)

  Output:
    "<alert id>|<seq>|0|<resolved>|<next level>" the result (the first one when the event was applied before)
    "refused|<reason>" the action does not apply now; the reason is shown to the operator
    -1 KEYS[6] is not the alert's dedup key: read it again and retry
]]
--- @include "audit"
--- @include "messages"
--- @include "result"
--- @include "steps"

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
local nextLevel = 0
local function open_and_unmuted()
  return redis.call('HGET', KEYS[1], 'state') == 'open' and redis.call('HGET', KEYS[1], 'silenceId') == ''
end
local function escalate_to(level)
  redis.call('HSET', KEYS[1], 'escalationLevel', level, 'escalatedAt', ARGV[2], 'escalatedBy', ARGV[3])
  if open_and_unmuted() then nextLevel = level + 1 end
end
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
  local level = tonumber(redis.call('HGET', KEYS[1], 'escalationLevel'))
  local at = redis.call('HGET', KEYS[1], 'escalatedAt')
  if level >= tonumber(ARGV[9]) or (at and tonumber(ARGV[2]) - tonumber(at) < tonumber(ARGV[10])) then
    if not at then return 'refused|already escalated to level ' .. level end
    local ago = math.max(0, math.floor((tonumber(ARGV[2]) - tonumber(at)) / 1000))
    return 'refused|already escalated to level ' .. level .. ' by ' .. redis.call('HGET', KEYS[1], 'escalatedBy') .. ' ' .. ago .. ' s ago'
  end
  escalate_to(tonumber(ARGV[9]))
elseif action == 'timer' then
  -- An escalation step is due: only an open, unmuted alert below that level escalates.
  if st ~= 'open' then return 'refused|' .. st end
  if redis.call('HGET', KEYS[1], 'silenceId') ~= '' then return 'refused|silenced' end
  if tonumber(redis.call('HGET', KEYS[1], 'escalationLevel')) >= tonumber(ARGV[9]) then return 'refused|already escalated' end
  escalate_to(tonumber(ARGV[9]))
elseif action == 'silence' then
  if st == 'resolved' then return 'refused|already resolved' end
  -- Taking over from a silence that ended: not when something else has unmuted or muted the alert since.
  if ARGV[13] ~= '' then
    local muting = redis.call('HGET', KEYS[1], 'silenceId')
    if muting == '' then return 'refused|not silenced' end
    if muting ~= ARGV[13] then return 'refused|muted by ' .. muting end
  end
  redis.call('HSET', KEYS[1], 'silenceId', ARGV[6])
elseif action == 'unmute' then
  local muting = redis.call('HGET', KEYS[1], 'silenceId')
  if muting == '' then return 'refused|not silenced' end
  -- The end of one silence does not lift another that has muted the alert since.
  if ARGV[6] ~= '' and muting ~= ARGV[6] then return 'refused|muted by ' .. muting end
  redis.call('HSET', KEYS[1], 'silenceId', '')
  if open_and_unmuted() then nextLevel = tonumber(redis.call('HGET', KEYS[1], 'escalationLevel')) + 1 end
elseif action == 'promoted' or action == 'replaced' or action == 'reorged' then
  if not settle_message(KEYS[1], KEYS[5], ARGV[7], ARGV[11] == '1') then return 'refused|not part of this alert' end
  if st ~= 'resolved' and outstanding_messages(KEYS[1], KEYS[5]) == 0 then resolve('xmsg') end
elseif action == 'recovered' then
  if st == 'resolved' then return 'refused|already resolved' end
  resolve('xmsg')
elseif action ~= 'note' then
  return 'refused|unknown action ' .. action
end
audit(KEYS[2], ARGV[2], ARGV[3], action, ARGV[4], ARGV[5])
-- An automatic resolution is in the audit trail as xmsg's, beside the change that brought it.
if resolved == 1 and action ~= 'resolve' then audit(KEYS[2], ARGV[2], 'xmsg', 'resolve', ARGV[12], ARGV[5]) end
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
if nextLevel > 0 then set_up_step(KEYS[1], nextLevel, seq) end
local r = result(redis.call('HGET', KEYS[1], 'id'), seq, 0, resolved, nextLevel)
if ARGV[8] == '1' then redis.call('SET', KEYS[4], r, 'EX', 86400) end
return r

--[[
  Applies one occurrence of a condition: folds it into the alert its dedup key names (when that alert is not
  resolved and, with a window, its last occurrence is recent enough), else opens a new alert. Applying the same
  event again returns the first result.

  Every key is in KEYS, so the caller names the alerts the script may touch: it reads the dedup key (`currentId`)
  and the alert counter (`seqRead`) and passes the keys of alert `currentId` and of the next id, XM-<seqRead + 1>.
  The script first checks that what it was told still holds: the dedup key still names currentId and, when a new
  alert is needed, the counter is still seqRead. Otherwise another writer moved it in between and the script
  answers -1, writing nothing; the caller reads both again and calls again (each retry follows another writer's
  success, so it ends). This keeps what the script did when it read the dedup key and incremented the counter
  itself: one alert per dedup key, no lost occurrence, and alert numbers without gaps.

  Input:
    KEYS[1] dedup           the dedup key, …:alert:dedup:<kind>-<chain>: the id of the alert occurrences fold into
    KEYS[2] seq             the alert counter, …:alert:seq
    KEYS[3] appliedEvent    the event's result once applied, …:alert:ev:<eventId>
    KEYS[4] unresolved      alerts not resolved, …:alerts:unresolved
    KEYS[5] all             every retained alert, …:alerts:all
    KEYS[6] byMessage       the alert a message raised, …:alert:bymsg:<messageId> (not touched when messageId is '')
    KEYS[7] currentAlert    the hash of alert currentId, …:alert:<id> (not touched when currentId is '')
    KEYS[8] currentMessages its messages, …:alert:<id>:msgs (idem)
    KEYS[9] nextAlert       the hash of alert XM-<seqRead + 1> (touched only to open it)
    KEYS[10] nextAudit      its audit trail, …:alert:<id>:audit (idem)
    KEYS[11] nextMessages   its messages (idem)

    ARGV[1] now             the time in ms
    ARGV[2] groupWindowMs   occurrences further apart than this open a new alert; 0 folds while unresolved
    ARGV[3] kind            the alert kind (for a new alert)
    ARGV[4] severity        critical or warning (for a new alert)
    ARGV[5] title           the alert title (for a new alert)
    ARGV[6] chainId         the chain the condition is on (for a new alert)
    ARGV[7] sourceChainId   the message's source chain, added to the alert's sources; '' when none
    ARGV[8] summary         the message summary JSON, added to the sample (at most 5); '' when none
    ARGV[9] detail          the latest problem text
    ARGV[10] messageId      the message's id, counted in the alert's outstanding messages; '' when none
    ARGV[11] retentionS     how long byMessage and audit entries past the first are kept, in s
    ARGV[12] silenceId      the silence that mutes a new alert; '' when none
    ARGV[13] currentId      what the caller read in the dedup key; '' when it was unset
    ARGV[14] seqRead        what the caller read in the alert counter; '0' when it was unset

  A new alert that no silence mutes sets up its first escalation step (includes/steps.lua): the result's next level
  is then 1.

  Output:
    "<alert id>|<seq>|<created>|<resolved>|<next level>" the result (the first one when the event was applied before)
    -1 the dedup key or the counter moved since the caller read them: nothing written, read again and retry
]]
--- @include "audit"
--- @include "messages"
--- @include "result"
--- @include "steps"

local done = redis.call('GET', KEYS[3])
if done then return done end
if (redis.call('GET', KEYS[1]) or '') ~= ARGV[13] then return -1 end
local now = tonumber(ARGV[1])
local id, alert, messages = ARGV[13], KEYS[7], KEYS[8]
if id ~= '' then
  local st = redis.call('HGET', alert, 'state')
  local last = tonumber(redis.call('HGET', alert, 'lastAt') or '0')
  if not st or st == 'resolved' or (tonumber(ARGV[2]) > 0 and now - last > tonumber(ARGV[2])) then id = '' end
end
local created = 0
if id == '' then
  if (redis.call('GET', KEYS[2]) or '0') ~= ARGV[14] then return -1 end
  id, alert, messages = 'XM-' .. redis.call('INCR', KEYS[2]), KEYS[9], KEYS[11]
  redis.call('HSET', alert, 'id', id, 'kind', ARGV[3], 'severity', ARGV[4], 'state', 'open', 'dedupKey', KEYS[1],
    'title', ARGV[5], 'count', 0, 'sample', '[]', 'chainId', ARGV[6], 'sources', '[]', 'createdAt', ARGV[1],
    'escalationLevel', 0, 'silenceId', ARGV[12], 'ackedBy', '', 'resolvedBy', '', 'seq', 0)
  redis.call('SET', KEYS[1], id)
  redis.call('ZADD', KEYS[4], ARGV[1], id)
  redis.call('ZADD', KEYS[5], ARGV[1], id)
  audit(KEYS[10], ARGV[1], 'xmsg', 'opened', ARGV[9], ARGV[11])
  created = 1
end
redis.call('HINCRBY', alert, 'count', 1)
redis.call('HSET', alert, 'lastAt', ARGV[1], 'detail', ARGV[9])
if ARGV[8] ~= '' then
  local sample = cjson.decode(redis.call('HGET', alert, 'sample'))
  if #sample < 5 then
    table.insert(sample, cjson.decode(ARGV[8]))
    redis.call('HSET', alert, 'sample', cjson.encode(sample))
  end
end
if ARGV[7] ~= '' then
  local sources = cjson.decode(redis.call('HGET', alert, 'sources'))
  local known = false
  for _, s in ipairs(sources) do if tostring(s) == ARGV[7] then known = true end end
  if not known then table.insert(sources, tonumber(ARGV[7])); redis.call('HSET', alert, 'sources', cjson.encode(sources)) end
end
if ARGV[10] ~= '' then
  add_message(alert, messages, KEYS[6], id, ARGV[10])
  redis.call('SET', KEYS[6], id, 'EX', ARGV[11])
end
local seq = redis.call('HINCRBY', alert, 'seq', 1)
local nextLevel = 0
if created == 1 and ARGV[12] == '' then
  nextLevel = 1
  set_up_step(alert, nextLevel, seq)
end
local r = result(id, seq, created, 0, nextLevel)
redis.call('SET', KEYS[3], r, 'EX', 86400)
return r

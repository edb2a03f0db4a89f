--[[
  Appends one entry to an alert's audit trail (a list of JSON objects: at, who, action, note), keeping the trail
  bounded however long the alert stays unresolved (docs/ARCHITECTURE.md §3, bounded memory): the first AUDIT_HEAD
  entries (how it began) and the last AUDIT_TAIL stay, and so does none older than the retention past the first
  ones. What goes is counted in one `trimmed` entry right after the first ones, whose `at` is the oldest left out.
]]
local AUDIT_HEAD, AUDIT_TAIL = 20, 200
local AUDIT_GONE = 'xmsg:left-out'

local function audit_trimmed_note(n)
  return n .. ' entr' .. (n == 1 and 'y' or 'ies') .. ' left out: the audit trail keeps its first ' .. AUDIT_HEAD ..
    ' entries, its last ' .. AUDIT_TAIL .. ', and none older than the alert retention'
end

-- Leaves out the oldest entry after the first ones, if there are too many or it is older than the retention; true if it did.
local function audit_trim_one(key, cutoff)
  local len = redis.call('LLEN', key)
  if len <= AUDIT_HEAD + 1 then return false end
  local marker = cjson.decode(redis.call('LINDEX', key, AUDIT_HEAD))
  local marked = marker.action == 'trimmed'
  local oldest = marked and AUDIT_HEAD + 1 or AUDIT_HEAD
  -- The entry just appended always stays.
  if oldest >= len - 1 then return false end
  local entry = marked and cjson.decode(redis.call('LINDEX', key, oldest)) or marker
  if len - AUDIT_HEAD - (marked and 1 or 0) <= AUDIT_TAIL and entry.at >= cutoff then return false end
  if marked then
    redis.call('LSET', key, oldest, AUDIT_GONE)
    redis.call('LREM', key, 1, AUDIT_GONE)
    marker.left_out = marker.left_out + 1
  else
    marker = { at = entry.at, who = 'xmsg', action = 'trimmed', left_out = 1 }
  end
  marker.note = audit_trimmed_note(marker.left_out)
  redis.call('LSET', key, AUDIT_HEAD, cjson.encode(marker))
  return true
end

local function audit(key, at, who, action, note, retentionS)
  redis.call('RPUSH', key, cjson.encode({ at = tonumber(at), who = who, action = action, note = note }))
  local cutoff = tonumber(at) - tonumber(retentionS) * 1000
  while audit_trim_one(key, cutoff) do end
end

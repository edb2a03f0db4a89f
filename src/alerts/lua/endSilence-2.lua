--[[
  Lifts a silence before its end time (`/xmsg unsilence`): only one caller ends it, so two people lifting it at once,
  or a lift racing its end time, make one end. A scheduled silence lifted before it starts never mutes anything.

  Input:
    KEYS[1] silence         the silence hash, …:silence:<S-n>
    KEYS[2] silences        silences by end time, …:silences

    ARGV[1] now             the time in ms
    ARGV[2] who             who lifts it: a chat user's label
    ARGV[3] keepUntil       when the ended silence is deleted (ms): now plus the retention

  Output:
    1 this call ended it
    0 there is no such silence, or it had ended already
]]

local id = redis.call('HGET', KEYS[1], 'id')
if not id then return 0 end
local now = tonumber(ARGV[1])
if tonumber(redis.call('HGET', KEYS[1], 'until')) <= now then return 0 end
redis.call('HSET', KEYS[1], 'until', ARGV[1], 'endedBy', ARGV[2])
-- A window lifted before it started: it never starts either.
if tonumber(redis.call('HGET', KEYS[1], 'from') or '0') > now then redis.call('HSET', KEYS[1], 'from', ARGV[1]) end
redis.call('ZADD', KEYS[2], ARGV[1], id)
redis.call('PEXPIREAT', KEYS[1], ARGV[3])
return 1

--[[
  Reserves the next free moment for one API call to a chat platform: calls of one kind are spaced at least
  `intervalMs` apart across every replica, by Redis's clock (replicas' clocks may differ). Only calls take a slot,
  so an outbox job that calls nothing costs the platform's budget nothing.

  Input:
    KEYS[1] slot            the next free moment (ms, Redis time), …:chat:<platform>:slot:<kind>

    ARGV[1] intervalMs      the least time between two calls, in whole ms (1000 / XMSG_CHAT_MAX_PER_S, rounded up)

  Output:
    how long the caller waits before its call, in ms (0: call now)
]]

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local interval = tonumber(ARGV[1])
local at = math.max(now, tonumber(redis.call('GET', KEYS[1]) or '0'))
local nextFree = at + interval
-- Whole numbers of ms throughout: tostring would write a float of this size in exponent form, losing digits.
redis.call('SET', KEYS[1], string.format('%d', nextFree), 'PX', nextFree - now + 1000)
return at - now

--[[
  Sets a mark on a record (a fact remembered besides its status, e.g. that it was reported unpromoted).

  Input:
    KEYS[1] record          the message's record hash, …:m:<shortId>

    ARGV[1] mark            the mark's name; stored as the field mk:<mark>
    ARGV[2] historyEntry    "<at ms>|<mark>: <note>"

  Output:
    1 this call set the mark; 0 it was set already, or the record is gone
]]
--- @include "append_history"

if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HSETNX', KEYS[1], 'mk:' .. ARGV[1], '1') == 0 then return 0 end
append_history(KEYS[1], ARGV[2])
return 1

--[[
  Appends the field/value pairs that store the value `v` under `name` to `out`: `name` holds its first
  PIECE_BYTES bytes, `name+1`, `name+2`, … the next ones (the record layout, src/store/record.ts). Returns how many
  pieces it took (at least one, for an empty value too).
]]
-- Must equal PIECE_BYTES in src/store/record.ts: Redis's hash-max-listpack-value, the longest value that keeps a
-- record hash in its compact encoding.
local PIECE_BYTES = 64
local function pieces(out, name, v)
  local i = 0
  repeat
    out[#out + 1] = i == 0 and name or (name .. '+' .. i)
    out[#out + 1] = string.sub(v, i * PIECE_BYTES + 1, (i + 1) * PIECE_BYTES)
    i = i + 1
  until i * PIECE_BYTES >= #v
  return i
end

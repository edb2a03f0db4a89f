--[[
  An alert's escalation steps. A change that moves an open, unmuted alert's escalation on (its opening, a timer's
  page, a manual escalation, the end of its silence) sets up the next step: the level it pages next. The change's
  sequence number names the step's timer job (`esc-<alert id>-<level>-<seq>`): a retried change answers the same
  step, and a level set up again (after a silence) gets a job of its own instead of colliding with the kept one.
  The step is kept in the alert's `nextStep` field ("<level>-<seq>") so that an acknowledgement or a silence can
  cancel its job.
]]
local function set_up_step(alert, level, seq)
  redis.call('HSET', alert, 'nextStep', level .. '-' .. seq)
end

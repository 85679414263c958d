-- A light, paced load for latency probes: each connection waits DELAY_MS between requests, so
-- the measured latency is the server's, not a queue wrk builds by saturating it.
-- args: DELAY_MS
local pause = 5
function init(args)
  pause = tonumber(args[1]) or 5
end

function delay()
  return pause
end

-- GET with a Range header at seeded random offsets.
-- args: PATH SIZE LENGTH ALIGN COUNT SEED
-- Each thread precomputes COUNT requests (seed + thread number) and cycles through them, so the
-- Lua cost per request is a table lookup and both servers see the same sequence of ranges.
local counter = 0
function setup(thread)
  thread:set("thread_number", counter)
  counter = counter + 1
end

local requests = {}
local count = 0
local index = 0

function init(args)
  local path = args[1]
  local size, length, align = tonumber(args[2]), tonumber(args[3]), tonumber(args[4])
  count = tonumber(args[5])
  math.randomseed(tonumber(args[6]) + 7919 * (thread_number or 0))
  local slots = math.floor((size - length) / align)
  for k = 1, count do
    local first = math.random(0, slots) * align
    requests[k] = wrk.format("GET", path, { Range = string.format("bytes=%d-%d", first, first + length - 1) })
  end
end

function request()
  index = index % count + 1
  return requests[index]
end

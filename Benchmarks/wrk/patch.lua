-- PATCH LENGTH bytes at seeded random LENGTH-aligned offsets, form 1 of the contract:
-- `Content-Range: bytes a-b/*` and a raw body of exactly b-a+1 bytes.
-- args: PATH SIZE LENGTH COUNT SEED
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
  local size, length = tonumber(args[2]), tonumber(args[3])
  count = tonumber(args[4])
  local number = thread_number or 0
  math.randomseed(tonumber(args[5]) + 7919 * number)
  local body = string.rep(string.format("%x", number % 16), length)
  local slots = math.floor(size / length) - 1
  for k = 1, count do
    local first = math.random(0, slots) * length
    requests[k] = wrk.format("PATCH", path,
      { ["Content-Range"] = string.format("bytes %d-%d/*", first, first + length - 1) }, body)
  end
end

function request()
  index = index % count + 1
  return requests[index]
end

-- wrk script for Tests/load/run: a mix of small ranges, multi-range, search and PATCH.
--   45% one 4 KiB range of data.bin, 20% three ranges (multipart), 20% a search in a 1 MiB
--   window of text.txt, 15% a 4 KiB PATCH into one of eight files (bearer token).
-- Every answer should be 2xx; wrk counts the rest as "status" errors.
local token = os.getenv("LOAD_TOKEN") or "load-token"
local data_size = tonumber(os.getenv("LOAD_DATA_SIZE") or "67108864")
local text_size = tonumber(os.getenv("LOAD_TEXT_SIZE") or "8388608")
local patch_size = tonumber(os.getenv("LOAD_PATCH_SIZE") or "1048576")
local patch_body = string.rep("p", 4096)
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
end

function init(args)
  math.randomseed(id * 7919 + os.time())
end

function request()
  local pick = math.random(100)
  if pick <= 45 then
    local first = math.random(0, data_size - 4096)
    return wrk.format("GET", "/files/data.bin", { ["Range"] = "bytes=" .. first .. "-" .. (first + 4095) })
  elseif pick <= 65 then
    local a = math.random(0, data_size / 2 - 10000)
    local b = math.random(data_size / 2, data_size - 10000)
    return wrk.format("GET", "/files/data.bin",
      { ["Range"] = "bytes=" .. a .. "-" .. (a + 999) .. "," .. b .. "-" .. (b + 4999) .. ",-100" })
  elseif pick <= 85 then
    local start = math.random(0, text_size - 1048576)
    return wrk.format("GET", "/search/text.txt?q=needle&limit=10&start=" .. start .. "&end=" .. (start + 1048576))
  else
    local file = math.random(0, 7)
    local at = math.random(0, patch_size - 4096)
    return wrk.format("PATCH", "/files/w" .. file .. ".bin",
      { ["Authorization"] = "Bearer " .. token, ["Content-Range"] = "bytes " .. at .. "-" .. (at + 4095) .. "/*" },
      patch_body)
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("LOAD requests=%d bytes=%d duration_us=%d connect=%d read=%d write=%d timeout=%d status=%d p50_ms=%.2f p99_ms=%.2f max_ms=%.2f\n",
    summary.requests, summary.bytes, summary.duration, e.connect, e.read, e.write, e.timeout, e.status,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end

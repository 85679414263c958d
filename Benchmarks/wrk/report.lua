-- Shared by every wrk script of the harness (bench.py appends it to each workload script):
-- prints the run's totals and latency percentiles as one machine-readable line.
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH-RESULT requests=%d duration_us=%d bytes=%.0f lat_mean_us=%.1f lat_p50_us=%.0f lat_p90_us=%.0f lat_p99_us=%.0f lat_p999_us=%.0f lat_max_us=%.0f err_connect=%d err_read=%d err_write=%d err_status=%d err_timeout=%d\n",
    summary.requests, summary.duration, summary.bytes, latency.mean,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end

"""The logs section of `make bench` (BENCH_SECTIONS=logs): lines by number and follow latency on a
1 GiB log, through HTTP against the local tools on the same file:

- `lines=-100` against `tail -n 100 FILE`;
- `lines=N-(N+99)` for N = 10,000,000, the first request (the line index is built) and repeated
  ones (the index is kept), against `sed -n 'N,(N+99)p;(N+99)q' FILE` (sed stops after the range);
- follow: the time from a PATCH append's `204` (and, separately, from a local `write(2)`) to the
  appended byte's arrival on a follower's socket, p50 and p99, on an otherwise idle server.

Bodies are compared with the local tools' output once (a mismatch voids the figures). ABBA order
per round; the median of the rounds; BENCH_SIDE_ROUNDS rounds (quick: 1).

The log (BENCH_ROOT/logs/app.log, made once, seeded) has about 14 million lines of 40–110 bytes.
"""

import http.client
import os
import random
import socket
import statistics
import subprocess
import time

import tree

LOG_BYTES = 1 << 30
FIRST = 10_000_000


def make_log(path, seed, size):
    """Seeded log lines, `size` bytes exactly (the last line cut short without a newline is avoided)."""
    if os.path.exists(path) and os.path.getsize(path) == size:
        return
    rng = random.Random(seed)
    words = ["GET", "POST", "/api/v1/items", "/login", "200", "404", "500", "timeout", "user=alice", "user=bob",
             "latency_ms=12", "latency_ms=250", "cache=hit", "cache=miss", "retry", "upstream", "ok", "ERROR", "WARN"]
    templates = [" ".join(rng.choice(words) for _ in range(rng.randint(3, 12))) for _ in range(4096)]
    written = 0
    number = 0
    with open(path + ".tmp", "wb") as out:
        while written < size:
            block = []
            for _ in range(50_000):
                number += 1
                block.append(f"2024-06-01T12:00:{number % 60:02d}Z {number:09d} {templates[number % 4096]}\n")
            data = "".join(block).encode()
            if written + len(data) > size:
                data = data[:size - written]
                data = data[:data.rfind(b"\n") + 1]
                data += b"x" * (size - written - len(data) - 1) + b"\n"
            out.write(data)
            written += len(data)
    os.replace(path + ".tmp", path)


class Server(tree.Server):
    """The tree section's server, writable, with a keep-alive connection for the timed GETs."""

    def __init__(self, binary, root, workers, work):
        super().__init__(binary, root, workers, work, options=["--writable", "--search-timeout-milliseconds", "600000"],
                         name="logs")
        self.port = int(self.url.rsplit(":", 1)[1])
        self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)

    def get(self, target):
        self.connection.request("GET", target)
        response = self.connection.getresponse()
        return response.status, response.read()

    def stop(self):
        if hasattr(self, "connection"):  # not when the start failed
            self.connection.close()
        super().stop()


def timed(function):
    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result


def local(command):
    return subprocess.run(command, check=True, capture_output=True).stdout


def follow_latencies(server, path, count, append):
    """Seconds from each append (as `append` times it) to its last byte on a follower's socket."""
    sock = socket.create_connection(("127.0.0.1", server.port))
    sock.sendall(f"GET /files/{path}?follow=true HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(65536)
    pending = head.partition(b"\r\n\r\n")[2]
    latencies = []
    for number in range(count):
        marker = f"follow {number:06d} {'z' * 40}\n".encode()
        started = append(marker)
        while marker not in pending:
            pending += sock.recv(65536)
        latencies.append(time.perf_counter() - started)
        pending = pending[pending.index(marker) + len(marker):]
    sock.close()
    return latencies


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def logs_section(args, settings, report, results):
    base = os.path.abspath(os.path.join(args.bench_root, "logs"))
    os.makedirs(base, exist_ok=True)
    log = os.path.join(base, "app.log")
    size = (64 << 20) if settings.quick else LOG_BYTES
    first = 100_000 if settings.quick else FIRST
    make_log(log, args.seed, size)
    follow_path = os.path.join(base, "follow.log")
    with open(follow_path, "wb"):
        pass
    rounds = 1 if settings.quick else int(os.environ.get("BENCH_SIDE_ROUNDS", min(settings.rounds, 3)))
    report(f"== Logs: lines by number and follow on a {size >> 20} MiB log ({rounds} ABBA rounds, medians; warm cache) ==")
    last = first + 99
    sed_command = ["sed", "-n", f"{first},{last}p;{last}q", log]
    tail_command = ["tail", "-n", "100", log]
    server = Server(args.mmapd_bin, base, args.workers, args.work)
    section = {}
    try:
        subprocess.run(["cat", log], stdout=subprocess.DEVNULL, check=True)  # a warm page cache for both sides
        first_seconds, (status, body) = timed(lambda: server.get(f"/files/app.log?lines={first}-{last}"))
        agree = status == 200 and body == local(sed_command)
        tail_status, tail_body = server.get("/files/app.log?lines=-100")
        agree = agree and tail_status == 200 and tail_body == local(tail_command)
        samples = {"tail_http": [], "tail_local": [], "lines_http": [], "sed_local": []}
        for _ in range(rounds):
            for order in (("http", "local"), ("local", "http")):
                for side in order:
                    if side == "http":
                        samples["tail_http"].append(timed(lambda: server.get("/files/app.log?lines=-100"))[0])
                        samples["lines_http"].append(timed(lambda: server.get(f"/files/app.log?lines={first}-{last}"))[0])
                    else:
                        samples["tail_local"].append(timed(lambda: local(tail_command))[0])
                        samples["sed_local"].append(timed(lambda: local(sed_command))[0])
        medians = {key: statistics.median(values) for key, values in samples.items()}
        header = f"{'query':<34} {'mmapd ms':>10} {'local ms':>10} {'local/mmapd':>12}  target"
        report(header)
        report("-" * (len(header) + 12))
        tail_ratio = medians["tail_local"] / medians["tail_http"]
        report(f"{'lines=-100 vs tail -n 100':<34} {medians['tail_http'] * 1e3:>10.2f} {medians['tail_local'] * 1e3:>10.2f} "
               f"{tail_ratio:>11.2f}x  >= 0.5x (within 2x of tail): {'met' if tail_ratio >= 0.5 else 'NOT met'}")
        first_ratio = medians["sed_local"] / first_seconds
        report(f"{f'lines={first}-{last}, first':<34} {first_seconds * 1e3:>10.2f} {medians['sed_local'] * 1e3:>10.2f} "
               f"{first_ratio:>11.2f}x  (builds the line index)")
        repeated_ratio = medians["sed_local"] / medians["lines_http"]
        report(f"{f'lines={first}-{last}, repeated':<34} {medians['lines_http'] * 1e3:>10.2f} {medians['sed_local'] * 1e3:>10.2f} "
               f"{repeated_ratio:>11.2f}x  >= 10x sed -n: {'met' if repeated_ratio >= 10 else 'NOT met'}")
        if not agree:
            report("!! logs: a body differs from tail/sed's output: the comparison is void")
        count = 50 if settings.quick else 300

        def by_patch(marker):
            current = os.path.getsize(follow_path)
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
            connection.request("PATCH", "/files/follow.log", body=marker,
                               headers={"Content-Range": f"bytes {current}-{current + len(marker) - 1}/*"})
            response = connection.getresponse()
            response.read()
            answered = time.perf_counter()
            connection.close()
            assert response.status == 204, response.status
            return answered

        fd = os.open(follow_path, os.O_WRONLY | os.O_APPEND)

        def by_write(marker):
            started = time.perf_counter()
            os.write(fd, marker)
            return started

        patch_latencies = follow_latencies(server, "follow.log", count, by_patch)
        write_latencies = follow_latencies(server, "follow.log", count, by_write)
        os.close(fd)
        follow = {}
        for name, values in (("PATCH 204 -> follower", patch_latencies), ("write(2) -> follower", write_latencies)):
            p50, p99 = percentile(values, 0.5) * 1e3, percentile(values, 0.99) * 1e3
            follow[name] = {"p50_ms": p50, "p99_ms": p99, "count": len(values)}
            report(f"follow latency, {name:<22} p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  ({len(values)} appends)  "
                   f"p99 <= 10 ms: {'met' if p99 <= 10 else 'NOT met'}")
        section = {"medians_s": medians, "first_lines_s": first_seconds, "tail_local_over_mmapd": tail_ratio,
                   "repeated_sed_over_mmapd": repeated_ratio, "first_sed_over_mmapd": first_ratio, "agree": agree,
                   "follow": follow, "log_bytes": size, "first_line": first}
    finally:
        server.stop()
    report("mmapd times are one keep-alive HTTP exchange from Python's http.client (request to last body byte); "
           "local times include the tool's process start.")
    report("")
    results["logs"] = section
    return section.get("agree", False)

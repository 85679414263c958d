"""The PUT section of `make bench` (BENCH_SECTIONS=put): durable whole-file uploads to the
writable mmapd beside a local baseline doing what a PUT promises, for 4 KiB and 64 MiB bodies.

A PUT streams the body into a temporary beside its target, fsyncs it, renames it over the
target and fsyncs the directory before answering. The baseline does exactly that in the same
directory from this Python process (open, write, fsync, rename, fsync of the directory), so the
ratio is the cost of HTTP, the socket and the server on top of the storage work. One client,
one keep-alive connection, one PUT at a time (each answer is a durability point); rounds in ABBA
order (each side goes first as often as last), medians of the rounds.

Called from bench.py with the bench module itself, whose helpers it reuses.
"""

import http.client
import os
import time
import urllib.parse

SIZES = (("4 KiB", 4 << 10), ("64 MiB", 64 << 20))


def timed_loop(duration, least, operation):
    """Runs `operation` until `duration` seconds passed and at least `least` times; latencies in µs."""
    latencies = []
    deadline = time.monotonic() + duration
    while time.monotonic() < deadline or len(latencies) < least:
        started = time.perf_counter_ns()
        operation()
        latencies.append((time.perf_counter_ns() - started) / 1000)
    return latencies


def mmapd_puts(base, path, body, duration, least):
    url = urllib.parse.urlsplit(base)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=120)
    statuses = []

    def put():
        connection.request("PUT", path, body=body, headers={"Content-Type": "application/octet-stream"})
        response = connection.getresponse()
        response.read()
        statuses.append(response.status)

    try:
        started = time.monotonic()
        latencies = timed_loop(duration, least, put)
        elapsed = time.monotonic() - started
    finally:
        connection.close()
    errors = sum(1 for status in statuses if status not in (201, 204))
    return latencies, elapsed, errors


def baseline_puts(directory, name, body, duration, least):
    """What mmapd does for a PUT, locally: temporary, write, fsync, rename, fsync the directory."""
    directory_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    temporary = os.path.join(directory, ".baseline-upload.tmp")
    target = os.path.join(directory, name)

    def put():
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            view = memoryview(body)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.rename(temporary, target)
        os.fsync(directory_fd)

    try:
        started = time.monotonic()
        latencies = timed_loop(duration, least, put)
        elapsed = time.monotonic() - started
    finally:
        os.close(directory_fd)
    return latencies, elapsed, 0


def put_section(bench, args, settings, report, results):
    report(f"== PUT: durable whole-file uploads (temporary, fsync, rename, directory fsync), one connection, "
           f"{settings.side_rounds} ABBA round(s) of {settings.duration:g}s per size, medians ==")
    status, _, answer = bench.http_request(args.patch, "PUT", "/files/put-probe.bin", {}, b"probe")
    if status not in (201, 204):
        report(f"put: not available in this build (PUT answered {status}: {answer[:200]!r})")
        report("")
        results["put"] = {"available": False, "reason": f"status {status}"}
        return
    os.unlink(os.path.join(args.patch_root, "put-probe.bin"))
    header = f"{'writer':<40} {'ops/s':>9} {'MB/s':>9} {'p50 ms':>9} {'p99 ms':>9} {'errors':>7}"
    report(header)
    report("-" * len(header))
    section = {"available": True}
    for label, size in SIZES:
        body = os.urandom(size)
        least = 3 if size >= 1 << 20 else 20
        samples = {"mmapd": [], "baseline": []}
        errors = 0
        for round_number in range(settings.side_rounds):
            order = ("mmapd", "baseline") if round_number % 2 == 0 else ("baseline", "mmapd")
            for side in order:
                report.note(f"round {round_number + 1} PUT {label}: {side}")
                if side == "mmapd":
                    latencies, elapsed, failed = mmapd_puts(args.patch, f"/files/put-{size}.bin", body, settings.duration, least)
                    errors += failed
                else:
                    latencies, elapsed, _ = baseline_puts(args.patch_root, f"baseline-{size}.bin", body, settings.duration, least)
                latencies.sort()
                samples[side].append({"ops": len(latencies) / elapsed, "p50_us": bench.percentile(latencies, 50),
                                      "p99_us": bench.percentile(latencies, 99), "count": len(latencies)})
            if not bench.alive(args.patch_pid):
                report("!! the writable mmapd died during the PUT benchmark")
                break
        rows = {}
        for side in ("mmapd", "baseline"):
            runs = samples[side]
            rows[side] = {"ops": bench.median([r["ops"] for r in runs]), "p50_us": bench.median([r["p50_us"] for r in runs]),
                          "p99_us": bench.median([r["p99_us"] for r in runs]), "runs": runs}
        names = {"mmapd": f"mmapd PUT {label}", "baseline": f"write+fsync+rename+fsync {label}"}
        for side in ("mmapd", "baseline"):
            r = rows[side]
            megabytes = r["ops"] * size / 1e6 if r["ops"] else None
            report(f"{names[side]:<40} {bench.fmt_num(r['ops'], 1):>9} {bench.fmt_num(megabytes, 1):>9} "
                   f"{bench.fmt_ms(r['p50_us']):>9} {bench.fmt_ms(r['p99_us']):>9} {(str(errors) if side == 'mmapd' else ''):>7}")
        q = {"ops": bench.ratio(rows["mmapd"]["ops"], rows["baseline"]["ops"]),
             "p50": bench.ratio(rows["mmapd"]["p50_us"], rows["baseline"]["p50_us"])}
        report(f"{'mmapd/baseline':<40} {bench.fmt_ratio(q['ops']):>9} {'':>9} {bench.fmt_ratio(q['p50']):>9}")
        rows["ratio"] = q
        rows["errors"] = errors
        section[label] = rows
        for side, name in (("mmapd", f"put-{size}.bin"), ("baseline", f"baseline-{size}.bin")):
            try:
                os.unlink(os.path.join(args.patch_root, name))
            except FileNotFoundError:
                pass
    report("errors = answers other than 201/204. The baseline runs in this Python process on the same "
           "directory as the writable mmapd's root; the client is Python's http.client.")
    report("")
    results["put"] = section

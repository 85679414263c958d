"""Scattered small writes flushed as one multipart PATCH against one PATCH each.

    python clients/python/benchmarks/patch_coalescing.py http://127.0.0.1:8080/files/scratch.bin

The file must exist, be at least 400 KiB, and the server must run with --writable; its first
400 KiB are overwritten. `max_pending_parts=1` makes the client send every write at once, which
is what coalescing saves. Prints the time of each way, best of five rounds.
"""

from __future__ import annotations

import sys
import time

import mmapd_client


def scattered_writes(url: str, parts: int, writes: int) -> float:
    m = mmapd_client.open(url, max_pending_parts=parts)
    started = time.perf_counter()
    for i in range(writes):
        m[i * 4096:i * 4096 + 16] = b"x" * 16
    m.flush()
    elapsed = time.perf_counter() - started
    m.close()
    return elapsed


def main() -> None:
    url = sys.argv[1]
    for writes in (10, 100):
        separate = min(scattered_writes(url, 1, writes) for _ in range(5))
        coalesced = min(scattered_writes(url, 256, writes) for _ in range(5))
        print(f"{writes} scattered 16-byte writes: one PATCH each {separate * 1000:.1f} ms, "
              f"one multipart PATCH {coalesced * 1000:.1f} ms ({separate / coalesced:.1f}x)")


if __name__ == "__main__":
    main()

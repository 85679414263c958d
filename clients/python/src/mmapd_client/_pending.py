"""Writes made since the last flush, kept as sorted, disjoint, non-adjacent byte runs.

Keeping them until `flush()` lets many small writes travel as one PATCH: adjacent and
overlapping writes merge into one run (the later bytes win, as they would in memory), and the
runs left go as the parts of one `multipart/byteranges` PATCH, which the server applies all or
none. Reads through the same object lay these runs over what the server sends, so the object
always reads its own writes.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right


class PendingWrites:
    def __init__(self) -> None:
        self._starts: list[int] = []
        self._runs: list[bytearray] = []
        self.byte_count = 0

    def __len__(self) -> int:
        return len(self._runs)

    def add(self, offset: int, data: bytes) -> None:
        if not data:
            return
        end = offset + len(data)
        low = bisect_left(self._starts, offset)
        if low > 0 and self._starts[low - 1] + len(self._runs[low - 1]) >= offset:
            low -= 1
        high = bisect_right(self._starts, end)
        if low == high:
            self._starts.insert(low, offset)
            self._runs.insert(low, bytearray(data))
            self.byte_count += len(data)
            return
        start = min(offset, self._starts[low])
        last_end = self._starts[high - 1] + len(self._runs[high - 1])
        merged = bytearray(max(end, last_end) - start)
        for run_start, run in zip(self._starts[low:high], self._runs[low:high]):
            merged[run_start - start:run_start - start + len(run)] = run
            self.byte_count -= len(run)
        merged[offset - start:end - start] = data
        self._starts[low:high] = [start]
        self._runs[low:high] = [merged]
        self.byte_count += len(merged)

    def covering(self, start: int, end: int) -> bytes | None:
        """The pending bytes of [start, end) when one run holds all of them."""
        index = bisect_right(self._starts, start) - 1
        if index >= 0:
            run_start, run = self._starts[index], self._runs[index]
            if run_start + len(run) >= end:
                return bytes(run[start - run_start:end - run_start])
        return None

    def overlay(self, start: int, data: bytes) -> bytes:
        """`data`, read from the server at `start`, with the pending bytes laid over it."""
        end = start + len(data)
        low = max(bisect_right(self._starts, start) - 1, 0)
        high = bisect_left(self._starts, end)
        result: bytearray | None = None
        for run_start, run in zip(self._starts[low:high], self._runs[low:high]):
            lo, hi = max(run_start, start), min(run_start + len(run), end)
            if lo < hi:
                result = result if result is not None else bytearray(data)
                result[lo - start:hi - start] = run[lo - run_start:hi - run_start]
        return data if result is None else bytes(result)

    def take(self) -> list[tuple[int, bytes]]:
        """Every run, in offset order, leaving nothing pending."""
        runs = [(start, bytes(run)) for start, run in zip(self._starts, self._runs)]
        self._starts, self._runs, self.byte_count = [], [], 0
        return runs

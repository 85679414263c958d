"""A bounded cache of fixed-size blocks of one version of a remote file.

Small reads (an index, a short slice, readline) fetch the aligned blocks around them in one
range request and keep them, least recently used first out. Every block belongs to the version
whose ETag the owner last saw: when an answer shows another ETag, the owner clears the cache, so
blocks of two versions never mix in one read.
"""

from __future__ import annotations

from collections import OrderedDict


class BlockCache:
    def __init__(self, block_size: int, capacity_blocks: int) -> None:
        if block_size <= 0 or capacity_blocks < 0:
            raise ValueError("block_size must be positive and cache_blocks not negative")
        self.block_size = block_size
        self._capacity = capacity_blocks
        self._blocks: OrderedDict[int, bytes] = OrderedDict()

    def get(self, index: int) -> bytes | None:
        block = self._blocks.get(index)
        if block is not None:
            self._blocks.move_to_end(index)
        return block

    def put(self, index: int, block: bytes) -> None:
        if self._capacity == 0:
            return
        self._blocks[index] = block
        self._blocks.move_to_end(index)
        while len(self._blocks) > self._capacity:
            self._blocks.popitem(last=False)

    def patch(self, offset: int, data: bytes) -> None:
        """Lays bytes this object wrote (and the server acknowledged) over the cached blocks."""
        size = self.block_size
        for index in range(offset // size, (offset + len(data) - 1) // size + 1):
            block = self._blocks.get(index)
            if block is None:
                continue
            base = index * size
            lo, hi = max(offset, base), min(offset + len(data), base + len(block))
            if lo < hi:
                updated = bytearray(block)
                updated[lo - base:hi - base] = data[lo - offset:hi - offset]
                self._blocks[index] = bytes(updated)

    def clear(self) -> None:
        self._blocks.clear()

"""Argument checks that raise what `mmap.mmap` raises for the same misuse."""

from __future__ import annotations

import operator
import sys
from typing import Any

SSIZE_MAX = sys.maxsize
SSIZE_MIN = -sys.maxsize - 1


def ssize(value: Any) -> int:
    """An integer argument parsed as C's Py_ssize_t (`n` in PyArg_ParseTuple)."""
    number = operator.index(value)
    if not SSIZE_MIN <= number <= SSIZE_MAX:
        raise OverflowError("Python int too large to convert to C ssize_t")
    return number


def index_sized(value: Any, error: type[Exception]) -> int:
    """PyNumber_AsSsize_t(value, error): an int that must fit an index, else `error`."""
    number = operator.index(value)
    if not SSIZE_MIN <= number <= SSIZE_MAX:
        raise error(f"cannot fit '{type(value).__name__}' into an index-sized integer")
    return number


def item_index(item: Any, size: int, not_an_index: str) -> int:
    """An index into a mapping of `size` bytes, negative from the end (mmap words the TypeError
    differently for reading and for assignment, hence `not_an_index`)."""
    if not hasattr(item, "__index__"):
        raise TypeError(not_an_index)
    index = index_sized(item, IndexError)
    if index < 0:
        index += size
    if not 0 <= index < size:
        raise IndexError("mmap index out of range")
    return index


def byte_string(value: Any) -> bytes:
    """A bytes-like argument (`y*`): bytes, bytearray, memoryview, array... but not str or int."""
    if isinstance(value, bytes):
        return value
    try:
        return memoryview(value).tobytes()
    except TypeError:
        raise TypeError(f"a bytes-like object is required, not '{type(value).__name__}'") from None

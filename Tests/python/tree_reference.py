"""An independent reference for tree searches: a plain Python walk with the contract's rules
(byte-wise name order, depth first, symlinks followed only inside the root, each directory once,
hidden names, globs, binary files) and Python's own `re` for the matches of each file."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path


def glob_regex(pattern: bytes) -> re.Pattern[bytes]:
    """The contract's glob as a regex over a relative path: `*`/`?`/`[...]` within a name, `**`
    as whole names (a trailing one: one name or more)."""
    names = [n for n in pattern.split(b"/") if n and n != b"."]
    parts: list[bytes] = []
    for index, name in enumerate(names):
        last = index == len(names) - 1
        if name == b"**":
            parts.append(rb"[^/]+(?:/[^/]+)*" if last else rb"(?:[^/]+/)*")
            continue
        piece = b""
        i = 0
        while i < len(name):
            c = name[i:i + 1]
            if c == b"*":
                piece += rb"[^/]*"
            elif c == b"?":
                piece += rb"[^/]"
            elif c == b"[":
                end = name.index(b"]", i + 2)
                body = name[i + 1:end]
                if body[:1] in (b"!", b"^"):
                    body = b"^" + body[1:]
                piece += b"[" + body + b"]"
                i = end
            else:
                piece += re.escape(c)
            i += 1
        parts.append(piece + (b"" if last else b"/"))
    return re.compile(b"".join(parts) + b"\\Z")


@dataclass
class Options:
    q: bytes
    regex: bool = False
    icase: bool = False
    hidden: bool = False
    binary: str = "skip"
    globs: list[bytes] = field(default_factory=list)
    excludes: list[bytes] = field(default_factory=list)

    def query(self) -> list[tuple[str, str | bytes]]:
        pairs: list[tuple[str, str | bytes]] = [("q", self.q)]
        if self.regex:
            pairs.append(("regex", "true"))
        if self.icase:
            pairs.append(("icase", "true"))
        if self.hidden:
            pairs.append(("hidden", "true"))
        pairs.append(("binary", self.binary))
        pairs += [("glob", g) for g in self.globs] + [("exclude", e) for e in self.excludes]
        return pairs


def walk(root: Path, directory: str, options: Options) -> tuple[list[tuple[bytes, bytes]], int]:
    """The files searched, as (path relative to the root, real path), in walk order, and the
    number of skipped entries (escaping or dangling symlinks)."""
    real_root = os.path.realpath(bytes(root))
    globs = [glob_regex(g) for g in options.globs]
    excludes = [glob_regex(e) for e in options.excludes]
    prefix = directory.encode() + b"/" if directory else b""
    seen: set[tuple[int, int]] = set()
    files: list[tuple[bytes, bytes]] = []
    skipped = 0

    def inside(path: bytes) -> bool:
        return path == real_root or path.startswith(real_root + b"/")

    def visit(real: bytes, rel: bytes) -> None:
        nonlocal skipped
        status = os.stat(real)
        if (status.st_dev, status.st_ino) in seen:
            return
        seen.add((status.st_dev, status.st_ino))
        for name in sorted(os.listdir(real)):
            if not options.hidden and name.startswith(b"."):
                continue
            path = rel + name
            full = os.path.join(real, name)
            if os.path.islink(full):
                # openat2(RESOLVE_BENEATH) refuses absolute links even when they point inside.
                target = os.path.realpath(full)
                if os.readlink(full).startswith(b"/") or not inside(target) or not os.path.exists(target):
                    skipped += 1
                    continue
                full = target
            if os.path.isdir(full):
                if not any(e.match(path) or e.match(path + b"/x") and e.pattern.endswith(rb"[^/]+(?:/[^/]+)*\Z")
                           for e in excludes):
                    visit(full, path + b"/")
            elif os.path.isfile(full):
                if any(e.match(path) for e in excludes):
                    continue
                if globs and not any(g.match(path) for g in globs):
                    continue
                files.append((prefix + path, full))

    visit(os.path.join(real_root, directory.encode()) if directory else real_root, b"")
    return files, skipped


def line_of(data: bytes, offset: int) -> bytes:
    start = data.rfind(b"\n", 0, offset) + 1
    end = data.find(b"\n", offset)
    return data[start:end if end >= 0 else len(data)]


def search(root: Path, directory: str, options: Options) -> dict:
    """The unlimited answer the contract describes (texts only for lines of up to 1,024 bytes)."""
    files, skipped = walk(root, directory, options)
    flags = re.IGNORECASE if options.icase else 0
    pattern = re.compile(options.q if options.regex else re.escape(options.q), flags)
    matches = []
    counts = []
    searched = matched = size = 0
    for path, real in files:
        data = Path(os.fsdecode(real)).read_bytes()
        if options.binary == "skip" and b"\0" in data[:8192]:
            continue
        searched += 1
        size += len(data)
        found = [(m.start(), m.end() - m.start()) for m in pattern.finditer(data)]
        if found:
            matched += 1
            counts.append({"path": path.decode(), "count": len(found)})
        for offset, length in found:
            line = line_of(data, offset)
            matches.append({"path": path.decode(), "offset": offset, "length": length,
                            "line": data.count(b"\n", 0, offset) + 1,
                            "text": line.decode("utf-8", "replace") if len(line) <= 1024 and b"\0" not in line else None})
    return {"files_searched": searched, "files_matched": matched, "bytes_searched": size, "skipped": skipped,
            "count": len(matches), "matches": matches, "counts": counts}

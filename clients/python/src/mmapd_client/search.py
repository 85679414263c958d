"""Searches run by the server (`GET /search/<path>`), read page by page as match objects."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator

if TYPE_CHECKING:
    from .remote_mmap import RemoteMmap


@dataclass(frozen=True)
class Match:
    """One match: where it is (`offset`, `length`), its 1-based `line` (None when line numbers
    were not asked for) and that line's `text` as the server renders it."""

    offset: int
    length: int
    line: int | None
    text: str

    def start(self) -> int:
        return self.offset

    def end(self) -> int:
        return self.offset + self.length

    def span(self) -> tuple[int, int]:
        return self.offset, self.offset + self.length


class SearchPager:
    """The matches of one search, following the server's `next` from page to page (also past a
    page that a time budget cut short, which may hold no match at all)."""

    def __init__(self, owner: RemoteMmap, needle: bytes, *, regex: bool, icase: bool,
                 start: int | None, end: int | None, reverse: bool, limit: int,
                 line_numbers: bool, pinned: bool) -> None:
        self._owner = owner
        self._needle = needle
        self._regex = regex
        self._icase = icase
        self._start = start
        self._end = end
        self._reverse = reverse
        self._limit = limit
        self._line_numbers = line_numbers
        self._pinned = pinned

    def __iter__(self) -> Iterator[Match]:
        session = self._owner.session
        start, end, version = self._start, self._end, None
        while True:
            target = session.targets.search(
                q=self._needle, regex="true" if self._regex else None,
                icase="true" if self._icase else None, start=start, end=end, limit=self._limit,
                reverse="true" if self._reverse else None,
                line_numbers=None if self._line_numbers else "false")
            headers: dict[str, str] = {"If-Match": version} if version else {}
            answer = session.checked("GET", target, headers)
            page = json.loads(answer.body)
            self._owner.adopt(answer, page.get("size"))
            if self._pinned:
                version = answer.header("ETag")
            for match in page["matches"]:
                yield Match(match["offset"], match["length"], match.get("line"), match.get("text", ""))
            if not page["truncated"] or page.get("next") is None:
                return
            if self._reverse:
                end = page["next"]
            else:
                start = page["next"]

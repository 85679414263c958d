"""Fixtures shared by the Python-driven live tests (Tests/python and clients/python/tests, whose
conftest.py files import them): a real mmapd executable on an ephemeral loopback port over a
temporary root, started per test and stopped (SIGTERM, then waited for) afterwards."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable, Iterator

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from mmapd_process import MmapdProcess  # noqa: E402


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """An empty served root; tests put their files in it."""
    served = tmp_path / "root"
    served.mkdir()
    return served


@pytest.fixture
def start_mmapd(tmp_path: Path) -> Iterator[Callable[..., MmapdProcess]]:
    """A factory: `start_mmapd(root, "--writable", ...)` starts a server and returns it."""
    started: list[MmapdProcess] = []

    def start(served: Path, *arguments: str, env: dict[str, str] | None = None) -> MmapdProcess:
        server = MmapdProcess.start(served, list(arguments), env=env, log_dir=tmp_path)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def mmapd(root: Path, start_mmapd: Callable[..., MmapdProcess]) -> MmapdProcess:
    """A read-only server over `root` with default settings."""
    return start_mmapd(root)

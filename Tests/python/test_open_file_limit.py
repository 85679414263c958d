"""The open-file limit: the soft limit is raised to the hard one at start, and a hard limit too
low for maxConnections is said in one warning line (the server still starts)."""

from __future__ import annotations

import os
import resource
import subprocess
from pathlib import Path

from mmapd_process import REPO


def open_file_limits(pid: int) -> tuple[str, str]:
    line = next(line for line in Path(f"/proc/{pid}/limits").read_text().splitlines()
                if line.startswith("Max open files"))
    soft, hard = line.split()[3:5]
    return soft, hard


def test_the_soft_limit_is_raised_to_the_hard_one(root: Path, start_mmapd):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(256, hard), hard))
    try:
        server = start_mmapd(root)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert open_file_limits(server.process.pid) == (str(hard), str(hard))
    assert "open-file limit" not in server.stderr_path.read_text()


def test_a_hard_limit_below_max_connections_is_said_once(root: Path, tmp_path: Path):
    binary = os.environ.get("MMAPD_BIN", str(REPO / ".build/debug/mmapd"))
    stderr_path = tmp_path / "limit.stderr"
    with stderr_path.open("wb") as stderr:
        # Only the child's limits are lowered (a lowered hard limit cannot be raised again).
        process = subprocess.Popen(
            [binary, "--host", "127.0.0.1", "--port", "0", "--root", str(root), "--log-level", "warning",
             "--max-connections", "1000"],
            stdout=subprocess.PIPE, stderr=stderr,
            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (200, 512)))
    try:
        assert process.stdout is not None
        assert process.stdout.readline().decode().startswith("mmapd listening on ")
        assert open_file_limits(process.pid) == ("512", "512")
    finally:
        process.terminate()
        process.wait(timeout=30)
    warnings = [line for line in stderr_path.read_text().splitlines() if "open-file limit" in line]
    assert len(warnings) == 1, warnings
    assert "(512)" in warnings[0] and "maxConnections (1000)" in warnings[0]

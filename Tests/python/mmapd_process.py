"""The real mmapd executable as a child process (MMAPD_BIN, default .build/debug/mmapd)."""

from __future__ import annotations

import os
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


@dataclass
class MmapdProcess:
    process: subprocess.Popen[bytes]
    url: str
    root: Path
    stderr_path: Path

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    @classmethod
    def start(cls, root: Path, arguments: list[str], env: dict[str, str] | None = None,
              log_dir: Path | None = None) -> "MmapdProcess":
        binary = os.environ.get("MMAPD_BIN", str(REPO / ".build/debug/mmapd"))
        environment = {k: v for k, v in os.environ.items() if not k.startswith("MMAPD_")}
        environment.update(env or {})
        log_dir = log_dir or root.parent
        stderr_path = log_dir / f"mmapd-{len(list(log_dir.glob('mmapd-*.stderr')))}.stderr"
        stderr = stderr_path.open("wb")
        process = subprocess.Popen(
            [binary, "--host", "127.0.0.1", "--port", "0", "--root", str(root), "--log-level", "warning", *arguments],
            stdout=subprocess.PIPE, stderr=stderr, env=environment)
        assert process.stdout is not None
        line = process.stdout.readline().decode().strip()
        if not line.startswith("mmapd listening on "):
            process.wait(timeout=10)
            raise RuntimeError(f"mmapd did not start: {line!r}; stderr: {stderr_path.read_text()}")
        return cls(process, line.removeprefix("mmapd listening on "), root, stderr_path)

    def stop(self) -> int:
        """SIGTERM, then waits for the exit; returns the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

"""The client's tests run against the real mmapd, with the fixtures of Tests/python."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "Tests" / "python"))
sys.path.insert(0, str(Path(__file__).parent))

from mmapd_fixtures import mmapd, root, start_mmapd  # noqa: E402,F401

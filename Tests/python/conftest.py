"""The live-test fixtures (root, start_mmapd, mmapd), defined in mmapd_fixtures.py so that the
Python client's tests can use the same ones."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from mmapd_fixtures import mmapd, root, start_mmapd  # noqa: E402,F401

"""Packaging: `pip install ./clients/python` in a fresh virtualenv with no package index (the
in-tree backend needs nothing from one), giving a typed `mmapd_client`; and the README's session,
run as a doctest against a server over `make run`'s sample data."""

from __future__ import annotations

import doctest
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

CLIENT = Path(__file__).resolve().parents[1]
REPO = CLIENT.parents[1]


def test_pip_installs_the_package_without_an_index(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    environment = {**os.environ, "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": "", "PIP_CONFIG_FILE": os.devnull}
    # This interpreter's pip installs into the new environment (`--python`), sparing ensurepip.
    pip = [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python")]
    subprocess.run([*pip, "install", "-q", str(CLIENT)], check=True, env=environment,
                   cwd=tmp_path)
    probe = ("import importlib.resources, mmapd_client; "
             "print(mmapd_client.open.__module__, importlib.resources.files('mmapd_client').joinpath('py.typed').is_file())")
    answer = subprocess.run([str(venv / "bin" / "python"), "-c", probe], check=True, capture_output=True,
                            text=True, cwd=tmp_path)
    assert answer.stdout.split() == ["mmapd_client", "True"]


def test_the_readme_session_works(root, start_mmapd):
    shutil.copytree(REPO / "config" / "sample", root, dirs_exist_ok=True)
    server = start_mmapd(root, "--config", str(REPO / "config" / "mmapd.json"), env={"MMAPD_WRITABLE": "true"})
    readme = (CLIENT / "README.md").read_text()
    session = re.search(r"```python\n(.*?)```", readme, re.S).group(1)
    session = session.replace("http://127.0.0.1:8080", server.url)
    test = doctest.DocTestParser().get_doctest(session, {}, "README", "README.md", 0)
    runner = doctest.DocTestRunner()
    runner.run(test)
    assert runner.failures == 0 and runner.tries >= 8

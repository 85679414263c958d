"""A PEP 517 build backend for this one package, written with the standard library only.

Why not setuptools, flit or hatchling: pip builds in an isolated environment and would have to
download them from an index, so `pip install ./clients/python` would fail on a machine without
one. This backend is in the tree (`backend-path` in pyproject.toml) and `requires = []`, so the
isolated build needs nothing. It builds a standard pure-Python wheel (PEP 427: the package under
src/, METADATA from pyproject's [project] table, RECORD with hashes), an sdist, and an editable
wheel (PEP 660, a .pth file pointing at src/).
"""

from __future__ import annotations

import base64
import hashlib
import io
import tarfile
import tomllib
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "mmapd_client"
SOURCES = ROOT / "src" / PACKAGE


def _project() -> dict[str, Any]:
    with open(ROOT / "pyproject.toml", "rb") as handle:
        project: dict[str, Any] = tomllib.load(handle)["project"]
    return project


def _distribution() -> tuple[str, str]:
    project = _project()
    return project["name"].replace("-", "_"), project["version"]


def _metadata() -> str:
    project = _project()
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {project['name']}",
        f"Version: {project['version']}",
        f"Summary: {project['description']}",
        f"Requires-Python: {project['requires-python']}",
        f"License: {project['license']['text']}",
    ]
    lines += [f"Classifier: {classifier}" for classifier in project.get("classifiers", [])]
    lines += [f"Requires-Dist: {dependency}" for dependency in project.get("dependencies", [])]
    readme = ROOT / project["readme"]
    lines += ["Description-Content-Type: text/markdown", "", readme.read_text(encoding="utf-8")]
    return "\n".join(lines)


def _package_files() -> list[Path]:
    return sorted(path for path in SOURCES.rglob("*")
                  if path.is_file() and "__pycache__" not in path.parts)


def _write_wheel(directory: str, entries: dict[str, bytes]) -> str:
    name, version = _distribution()
    info = f"{name}-{version}.dist-info"
    entries = dict(entries)
    entries[f"{info}/METADATA"] = _metadata().encode()
    entries[f"{info}/WHEEL"] = (b"Wheel-Version: 1.0\nGenerator: mmapd_build_backend\n"
                                b"Root-Is-Purelib: true\nTag: py3-none-any\n")
    record = []
    for path, data in entries.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{info}/RECORD,,")
    entries[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    filename = f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(Path(directory) / filename, "w", zipfile.ZIP_DEFLATED) as wheel:
        for path, data in entries.items():
            wheel.writestr(zipfile.ZipInfo(path, date_time=(2020, 1, 1, 0, 0, 0)), data)
    return filename


def get_requires_for_build_wheel(config_settings: dict[str, Any] | None = None) -> list[str]:
    return []


def get_requires_for_build_sdist(config_settings: dict[str, Any] | None = None) -> list[str]:
    return []


def get_requires_for_build_editable(config_settings: dict[str, Any] | None = None) -> list[str]:
    return []


def build_wheel(wheel_directory: str, config_settings: dict[str, Any] | None = None,
                metadata_directory: str | None = None) -> str:
    entries = {f"{PACKAGE}/{path.relative_to(SOURCES).as_posix()}": path.read_bytes()
               for path in _package_files()}
    return _write_wheel(wheel_directory, entries)


def build_editable(wheel_directory: str, config_settings: dict[str, Any] | None = None,
                metadata_directory: str | None = None) -> str:
    return _write_wheel(wheel_directory, {f"{PACKAGE}.pth": f"{SOURCES.parent}\n".encode()})


def build_sdist(sdist_directory: str, config_settings: dict[str, Any] | None = None) -> str:
    name, version = _distribution()
    base = f"{name}-{version}"
    filename = f"{base}.tar.gz"
    members = [ROOT / "pyproject.toml", ROOT / "README.md", Path(__file__), *_package_files()]
    with tarfile.open(Path(sdist_directory) / filename, "w:gz") as sdist:
        for path in members:
            sdist.add(path, arcname=f"{base}/{path.relative_to(ROOT).as_posix()}")
        pkg_info = _metadata().encode()
        info = tarfile.TarInfo(f"{base}/PKG-INFO")
        info.size = len(pkg_info)
        sdist.addfile(info, io.BytesIO(pkg_info))
    return filename

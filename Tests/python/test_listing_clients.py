"""The real clients that treat mmapd as a tree: rclone, lftp, wget, fsspec and GDAL parse its
HTML listings (docs/LISTINGS.md) and mirror a directory tree byte for byte.

The Debian packages (rclone, lftp, wget, gdal-bin, python3-gdal) are installed by the Makefile's
python-test target; fsspec and aiohttp are pinned in requirements.txt. GDAL's Python bindings
come with Debian's python3, so the GDAL cases run /usr/bin/python3 as a separate client."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from listing_tree import FILES, LINKS, assert_same_tree, make_tree

SYSTEM_PYTHON = "/usr/bin/python3"


def require(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.skip(f"{tool} is not installed (make python-test installs it)")
    return path


def run(*command: str, timeout: float = 120, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                            env={**os.environ, **(env or {})})
    assert result.returncode == 0, f"{command}: {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture
def tree(root: Path, tmp_path: Path) -> dict[str, bytes]:
    return make_tree(root, outside=tmp_path / "outside")


def every_directory() -> set[str]:
    directories = set()
    for relative in [*FILES, *LINKS]:
        parts = relative.split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            directories.add("/".join(parts[:depth]) + "/")
    return directories


def test_rclone_lsf_and_copy(tree, root, start_mmapd, tmp_path):
    rclone = require("rclone")
    server = start_mmapd(root)
    remote = ["--http-url", f"{server.url}/files/", "--config", "/dev/null"]
    listed = run(rclone, "lsf", "-R", *remote, ":http:").stdout.splitlines()
    assert sorted(listed) == sorted([*tree, *every_directory()])
    copy = tmp_path / "rclone-copy"
    run(rclone, "copy", *remote, ":http:", str(copy))
    assert_same_tree(tree, copy)


def test_lftp_mirror(tree, root, start_mmapd, tmp_path):
    lftp = require("lftp")
    server = start_mmapd(root)
    copy = tmp_path / "lftp-mirror"
    run(lftp, "-c", f"set cmd:fail-exit yes; set net:max-retries 1; open {server.url}/files/; mirror . {copy}")
    assert_same_tree(tree, copy)
    listing = run(lftp, "-c", f"open {server.url}/files/; cls -1 data/").stdout.split()
    assert sorted(listing) == ["data/big.bin", "data/link-to-readme.txt", "data/nested/"]


def test_wget_recursive(tree, root, start_mmapd, tmp_path):
    wget = require("wget")
    server = start_mmapd(root)
    copy = tmp_path / "wget-mirror"
    # -R index.html*: the listing pages are fetched and parsed, not kept.
    run(wget, "-q", "-r", "-np", "-nH", "--cut-dirs=1", "-e", "robots=off", "-R", "index.html*",
        "-P", str(copy), f"{server.url}/files/")
    assert_same_tree(tree, copy)


def test_fsspec_ls_glob_and_cat(tree, root, start_mmapd):
    fsspec = pytest.importorskip("fsspec")
    pytest.importorskip("aiohttp")
    server = start_mmapd(root)
    base = f"{server.url}/files/"
    fs = fsspec.filesystem("http")
    from urllib.parse import quote, unquote

    top = fs.ls(base, detail=False)
    assert sorted(top) == sorted(base + quote(name) for name in [".hidden/", "data/", "dir with space/", "empty.bin", "readme.txt"])
    every = fs.glob(base + "**")
    files = sorted(unquote(url[len(base):]) for url in every if not url.endswith("/"))
    assert files == sorted(tree)
    for relative, data in tree.items():
        assert fs.cat(base + quote(relative)) == data, relative
    assert fs.glob(base + "data/*.bin") == [base + "data/big.bin"]


def gdal_python(script: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    probe = subprocess.run([SYSTEM_PYTHON, "-c", "from osgeo import gdal"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("python3-gdal is not installed (make python-test installs it)")
    return run(SYSTEM_PYTHON, "-c", script, env=env)


def test_gdal_readdir(tree, root, start_mmapd):
    server = start_mmapd(root)
    script = f"""
from osgeo import gdal
import json
base = '/vsicurl/{server.url}/files'
print(json.dumps({{name: gdal.ReadDir(base + name) for name in ['/', '/data', '/dir%20with%20space', '/data/nested/deeper']}}))
"""
    import json
    listed = json.loads(gdal_python(script).stdout)
    # GDAL keeps the names as the links spell them (percent-encoded), directories without the slash.
    assert sorted(listed["/"]) == [".hidden", "data", "dir%20with%20space", "empty.bin", "readme.txt"]
    assert sorted(listed["/data"]) == ["big.bin", "link-to-readme.txt", "nested"]
    assert sorted(listed["/dir%20with%20space"]) == ["%C3%A9t%C3%A9%20%E2%98%83.txt", "50%25%20%231.log"]
    assert listed["/data/nested/deeper"] == ["leaf.csv"]


def curl_requests(stderr: str) -> list[tuple[str, str | None]]:
    """(request line, Range header) for every request GDAL's libcurl sent (CPL_CURL_VERBOSE)."""
    requests: list[tuple[str, str | None]] = []
    for line in stderr.splitlines():
        if line.startswith("> "):
            requests.append((line[2:].strip(), None))
        elif line.lower().startswith("range: ") and requests:
            requests[-1] = (requests[-1][0], line.split(":", 1)[1].strip())
    return requests


@pytest.fixture
def geotiff(root: Path) -> Path:
    """A tiled GeoTIFF of 4 x 128 tiles of 16 x 16 pixels, made by gdal_translate."""
    require("gdal_translate")
    source = root / "source.asc"
    rows = [" ".join(str((x * 7 + y * 13) % 251) for x in range(64)) for y in range(2048)]
    source.write_text("ncols 64\nnrows 2048\nxllcorner 0\nyllcorner 0\ncellsize 1\n" + "\n".join(rows) + "\n")
    target = root / "tiles" / "dem.tif"
    target.parent.mkdir()
    run("gdal_translate", "-q", "-of", "GTiff", "-ot", "Byte", "-a_srs", "EPSG:32631", "-co", "TILED=YES",
        "-co", "BLOCKXSIZE=16", "-co", "BLOCKYSIZE=16", str(source), str(target))
    source.unlink()
    return target


def test_gdalinfo_needs_a_handful_of_requests(geotiff, root, start_mmapd):
    require("gdalinfo")
    server = start_mmapd(root)
    result = run("gdalinfo", f"/vsicurl/{server.url}/files/tiles/dem.tif",
                 env={"CPL_CURL_VERBOSE": "YES", "GDAL_DISABLE_READDIR_ON_OPEN": "NO"})
    assert "Size is 64, 2048" in result.stdout
    requests = curl_requests(result.stderr)
    # The directory listing answers GDAL's sidecar questions (.aux.xml, .ovr, .msk...) at once:
    # no HEAD per candidate name, as there were when the listing was JSON only.
    assert len(requests) <= 5, requests
    assert any(line.startswith("GET /files/tiles/ ") for line, _ in requests), requests


def test_gdal_reads_a_column_of_128_tiles_in_one_multipart_answer(geotiff, root, start_mmapd):
    server = start_mmapd(root)
    script = f"""
from osgeo import gdal
gdal.UseExceptions()
dataset = gdal.Open('/vsicurl/{server.url}/files/tiles/dem.tif')
column = dataset.GetRasterBand(1).ReadRaster(0, 0, 16, 2048)
on_disk = gdal.Open('{geotiff}')  # kept: a band must not outlive its dataset
local = on_disk.GetRasterBand(1).ReadRaster(0, 0, 16, 2048)
assert column == local, 'the column read over HTTP differs from the file'
print(len(column))
"""
    result = gdal_python(script, env={"CPL_CURL_VERBOSE": "YES", "GDAL_HTTP_MULTIRANGE": "SINGLE_GET"})
    assert result.stdout.strip() == str(16 * 2048)
    ranged = [ranges for _, ranges in curl_requests(result.stderr) if ranges and ranges.count(",") >= 100]
    assert len(ranged) == 1, curl_requests(result.stderr)
    assert ranged[0].count(",") + 1 == 128
    assert "multipart/byteranges" in result.stderr and "HTTP/1.1 206" in result.stderr

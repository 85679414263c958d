"""PATCH against a real block device: an acknowledged PATCH survives a simulated power loss with
fdatasync as its only flush, and a copy into the file that blocks (a frozen filesystem) never
holds a network thread.

Durability.

SIGKILL alone proves nothing about durability: the killed process's stores are in the page cache,
which outlives it, and every later read sees them. Here the files live on an ext4 filesystem on a
loop device, and the "crash" is a copy of the loop device's backing image taken while that
filesystem is still mounted: it holds exactly what the filesystem has written to its block
device, and nothing that sits only in its page cache (dirty data pages, dirty metadata buffers,
an uncommitted journal transaction). Mounting the copy replays its journal, as after a power
loss. A control writes bytes through a shared mapping of another file without any flush: they
must be missing from the copy, or the copy would not be a crash.

What this proves: before the 204, the PATCH's bytes (stored through a MAP_SHARED mapping, never
msync'ed) and its new length reached the block device and the journal commit holding the length.
What it does not: that the device honours a cache flush (the loop device's backing file is in
the host's page cache; real storage must honour the flush fdatasync sends, as fsync assumes).
"""

from __future__ import annotations

import http.client
import mmap
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from mmapd_process import MmapdProcess

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not all(shutil.which(tool) for tool in ("mkfs.ext4", "losetup", "fsfreeze"))
    or not Path("/dev/loop-control").exists(),
    reason="needs root, mkfs.ext4, fsfreeze and loop devices")

MIB = 1 << 20


def run(*command: str) -> str:
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip()


class LoopFilesystem:
    """A fresh ext4 on a loop device over a sparse image, mounted below `base`."""

    def __init__(self, base: Path, name: str, image: Path | None = None, read_only: bool = False):
        self.mountpoint = base / name
        self.mountpoint.mkdir()
        if image is None:
            image = base / f"{name}.img"
            with image.open("wb") as file:
                file.truncate(64 * MIB)
            run("mkfs.ext4", "-q", "-F", "-E", "lazy_itable_init=0,lazy_journal_init=0", str(image))
        self.image = image
        self.device = run("losetup", "--find", "--show", str(image))
        try:
            run("mount", *(["-o", "ro"] if read_only else []), self.device, str(self.mountpoint))
        except subprocess.CalledProcessError:
            run("losetup", "-d", self.device)
            raise

    def crash_copy(self, destination: Path) -> Path:
        """The image as the device holds it now (the mounted filesystem's cache left out)."""
        shutil.copyfile(self.image, destination)
        return destination

    def close(self) -> None:
        subprocess.run(["umount", str(self.mountpoint)], check=False, capture_output=True)
        subprocess.run(["losetup", "-d", self.device], check=False, capture_output=True)


def patch(port: int, path: str, start: int, data: bytes, timeout: float = 30) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    connection.request("PATCH", f"/files/{path}", body=data,
                       headers={"Content-Range": f"bytes {start}-{start + len(data) - 1}/*"})
    status = connection.getresponse().status
    connection.close()
    return status


def test_an_acknowledged_patch_survives_losing_the_page_cache(tmp_path: Path) -> None:
    disk = LoopFilesystem(tmp_path, "disk")
    crashed = None
    server = None
    try:
        original = bytes(MIB)
        (disk.mountpoint / "data.bin").write_bytes(original)
        (disk.mountpoint / "control.bin").write_bytes(bytes(64 * 1024))
        os.sync()  # the state before: on the device

        server = MmapdProcess.start(disk.mountpoint, ["--writable"], log_dir=tmp_path)
        overwrite = os.urandom(4096)
        appended = os.urandom(8192)
        assert patch(server.port, "data.bin", 4096, overwrite) == 204
        assert patch(server.port, "data.bin", MIB, appended) == 204

        # The control: stored through a shared mapping, never flushed.
        unflushed = os.urandom(4096)
        with (disk.mountpoint / "control.bin").open("r+b") as file, mmap.mmap(file.fileno(), 0) as mapped:
            mapped[8192:8192 + len(unflushed)] = unflushed
            image = disk.crash_copy(tmp_path / "crash.img")
        server.process.send_signal(signal.SIGKILL)
        server.process.wait()

        crashed = LoopFilesystem(tmp_path, "after", image=image)
        control = (crashed.mountpoint / "control.bin").read_bytes()
        assert control[8192:8192 + len(unflushed)] != unflushed, \
            "bytes never flushed survived the copy: it is not a crash, and proves nothing"
        after = (crashed.mountpoint / "data.bin").read_bytes()
        assert len(after) == MIB + len(appended), "the acknowledged growth was lost"
        assert after[4096:8192] == overwrite, "the acknowledged overwrite was lost"
        assert after[MIB:] == appended, "the acknowledged append was lost"
        assert after[:4096] == original[:4096] and after[8192:MIB] == original[8192:]
    finally:
        if server is not None and server.process.poll() is None:
            server.process.kill()
            server.process.wait()
        if crashed is not None:
            crashed.close()
        disk.close()


def test_a_failed_flush_is_an_error_answer_not_a_204(tmp_path: Path) -> None:
    """The loop device's backing image lives on a small tmpfs, and `data.bin`'s blocks are
    allocated but never written (fallocate), so the image has no pages for them yet. With that
    tmpfs full, writing them back fails (ENOSPC from the loop device), fdatasync reports it, and
    the PATCH must not be acknowledged. Once there is room again, the next PATCH is."""
    backing = tmp_path / "backing"
    backing.mkdir()
    run("mount", "-t", "tmpfs", "-o", "size=24M", "tmpfs", str(backing))
    disk = None
    server = None
    try:
        disk = LoopFilesystem(backing, "disk")
        run("fallocate", "-l", str(MIB), str(disk.mountpoint / "data.bin"))
        os.sync()
        server = MmapdProcess.start(disk.mountpoint, ["--writable"], log_dir=tmp_path)
        filler = backing / "filler"
        descriptor = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            while os.write(descriptor, bytes(1 << 16)):
                pass
        except OSError:
            pass  # full
        finally:
            os.close(descriptor)
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        connection.request("PATCH", "/files/data.bin", body=os.urandom(MIB),
                           headers={"Content-Range": f"bytes 0-{MIB - 1}/*"})
        answer = connection.getresponse()
        body = answer.read()
        assert answer.status == 507, (answer.status, body)
        assert answer.getheader("Content-Type") == "application/problem+json"
        assert b"not durable" in body, body
        filler.unlink()
        assert patch(server.port, "data.bin", 0, b"room again") == 204
    finally:
        if server is not None:
            server.stop()
        if disk is not None:
            disk.close()
        subprocess.run(["umount", str(backing)], check=False, capture_output=True)


# ---- a copy that blocks ------------------------------------------------------------------------
#
# With the filesystem frozen (fsfreeze), a store into a mapped page that is not yet writable
# waits in the page fault until the filesystem thaws, in uninterruptible sleep. One network
# thread (--threads 1) makes the point: if the copy ran on it, nothing else would be answered.

UPLOAD = 1 << 20  # two copy batches (StreamingPatch.batchBytes is 512 KiB)


def blocked_threads(pid: int) -> int:
    """Threads of `pid` in uninterruptible sleep (state D): here, a copy waiting for the thaw."""
    count = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            state = (task / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        count += state == "D"
    return count


def wait_for(condition, seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def get(port: int, target: str, timeout: float = 5) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    connection.request("GET", target, headers={"Range": "bytes=0-0"})
    status = connection.getresponse().status
    connection.close()
    return status


class Frozen:
    """A server on one network thread over a loop filesystem holding `data.bin` (2 MiB of
    zeros), with an upload's copy stuck on the frozen filesystem."""

    def __init__(self, tmp_path: Path):
        self.disk = LoopFilesystem(tmp_path, "disk")
        self.frozen = False
        self.server = None
        (self.disk.mountpoint / "data.bin").write_bytes(bytes(2 * UPLOAD))
        os.sync()
        self.server = MmapdProcess.start(self.disk.mountpoint, ["--writable", "--threads", "1", "--shutdown-grace", "1"],
                                         log_dir=tmp_path)
        self.upload = os.urandom(UPLOAD)

    def freeze(self) -> None:
        run("fsfreeze", "--freeze", str(self.disk.mountpoint))
        self.frozen = True

    def thaw(self) -> None:
        if self.frozen:
            run("fsfreeze", "--unfreeze", str(self.disk.mountpoint))
            self.frozen = False

    def start_upload(self, sending: int = UPLOAD) -> socket.socket:
        """Sends a 1 MiB PATCH of `upload` at 0, or its first `sending` bytes, and waits until its
        copy is stuck."""
        client = socket.create_connection(("127.0.0.1", self.server.port), timeout=30)
        client.sendall(f"PATCH /files/data.bin HTTP/1.1\r\nHost: x\r\nContent-Range: bytes 0-{UPLOAD - 1}/*\r\n"
                       f"Content-Length: {UPLOAD}\r\n\r\n".encode() + self.upload[:sending])
        assert wait_for(lambda: blocked_threads(self.server.process.pid) > 0), "no copy ever waited for the thaw"
        return client

    def close(self) -> None:
        self.thaw()
        if self.server is not None and self.server.process.poll() is None:
            self.server.process.kill()
            self.server.process.wait()
        self.disk.close()


@pytest.fixture
def frozen(tmp_path: Path):
    state = Frozen(tmp_path)
    try:
        yield state
    finally:
        state.close()


def test_a_blocked_copy_never_holds_the_network_thread(frozen: Frozen) -> None:
    frozen.freeze()
    client = frozen.start_upload()
    # The one network thread still answers, reads included.
    assert get(frozen.server.port, "/healthz") == 200
    assert get(frozen.server.port, "/files/data.bin") == 206
    frozen.thaw()
    answer = client.recv(4096)
    assert answer.startswith(b"HTTP/1.1 204"), answer
    assert (frozen.disk.mountpoint / "data.bin").read_bytes()[:UPLOAD] == frozen.upload


def test_a_client_gone_while_its_copy_waits_gives_the_turn_back(frozen: Frozen) -> None:
    frozen.freeze()
    client = frozen.start_upload(sending=UPLOAD * 3 // 4)
    client.close()
    frozen.thaw()
    # The turn is free again: the next PATCH is answered.
    assert patch(frozen.server.port, "data.bin", 0, b"next") == 204
    after = (frozen.disk.mountpoint / "data.bin").read_bytes()
    assert len(after) == 2 * UPLOAD
    assert after[:4] == b"next"
    # Of the vanished upload, at most a prefix landed; the rest is as it was.
    written = 4
    while written < UPLOAD and after[written] == frozen.upload[written]:
        written += 1
    assert after[written:UPLOAD] == bytes(UPLOAD - written) or after[written:UPLOAD] == frozen.upload[written:], \
        "bytes other than a prefix of the upload"
    assert get(frozen.server.port, "/healthz") == 200


def test_sigterm_while_a_copy_waits_exits_cleanly(frozen: Frozen) -> None:
    frozen.freeze()
    client = frozen.start_upload()
    frozen.server.process.send_signal(signal.SIGTERM)
    # Shutdown cancels the suspended upload; the copy, once the filesystem thaws, finds the
    # request gone and releases what it held itself.
    frozen.thaw()
    assert frozen.server.process.wait(timeout=30) == 0, frozen.server.stderr_path.read_text()
    client.close()

"""The fixture itself: the server it starts answers over a real socket, and stops with exit 0."""

import urllib.request


def test_serves_a_file_and_stops_cleanly(root, start_mmapd):
    (root / "a.txt").write_bytes(b"hello\n")
    server = start_mmapd(root)
    with urllib.request.urlopen(f"{server.url}/files/a.txt") as response:
        assert response.status == 200
        assert response.read() == b"hello\n"
    assert server.stop() == 0

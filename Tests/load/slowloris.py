#!/usr/bin/env python3
"""Slow clients for Tests/load/run: N connections that send a request head one byte per
`interval` seconds (slow headers), or a PATCH head and then its body one byte per interval
(slow body, to files slow<first_file>.bin onwards). Prints, per kind, how many the server cut off and after how long; never runs longer
than `limit` seconds."""
import socket, sys, time, selectors

def main(port, count, interval, limit, kind, first_file=0):
    head = b"GET /files/small.txt HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 4000 + b"\r\n\r\n"
    # Each slow body writes its own file (slow<N>.bin): one file's writers queue behind its turn.
    body_head = (b"PATCH /files/slow%d.bin HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer load-token\r\n"
                 b"Content-Range: bytes 0-9999/*\r\nContent-Length: 10000\r\n\r\n")
    conns = []
    for index in range(count):
        s = socket.create_connection(("127.0.0.1", port))
        s.setblocking(False)
        if kind == "body":
            s.sendall(body_head % (first_file + index))
        conns.append({"sock": s, "sent": 0, "cut": None})
    start = time.monotonic()
    payload = head if kind == "headers" else b"x" * 10000
    while time.monotonic() - start < limit:
        for c in conns:
            if c["cut"] is not None:
                continue
            try:
                data = c["sock"].recv(4096)
                if data == b"" or data:
                    # EOF, or an error answer (408/400) followed by close: cut off either way.
                    c["cut"] = time.monotonic() - start
                    continue
            except BlockingIOError:
                pass
            except OSError:
                c["cut"] = time.monotonic() - start
                continue
            try:
                if c["sent"] < len(payload):
                    c["sock"].send(payload[c["sent"]:c["sent"] + 1])
                    c["sent"] += 1
            except OSError:
                c["cut"] = time.monotonic() - start
        if all(c["cut"] is not None for c in conns):
            break
        time.sleep(interval)
    cut = [c["cut"] for c in conns if c["cut"] is not None]
    for c in conns:
        c["sock"].close()
    print("SLOW kind=%s connections=%d interval=%.1fs cut=%d alive=%d first_cut_s=%s last_cut_s=%s" % (
        kind, count, interval, len(cut), count - len(cut),
        ("%.1f" % min(cut)) if cut else "-", ("%.1f" % max(cut)) if cut else "-"))

if __name__ == "__main__":
    port, count, interval, limit = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
    main(port, count, interval, limit, sys.argv[5] if len(sys.argv) > 5 else "headers",
         int(sys.argv[6]) if len(sys.argv) > 6 else 0)

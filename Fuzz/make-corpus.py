#!/usr/bin/env python3
"""Writes the hand-made seed corpus, one directory per fuzz target, in each target's input layout
(see the comment at the top of each Sources/Fuzz*/Fuzz*.swift). Re-run after changing a layout;
libFuzzer adds what it finds to a scratch copy, never to these directories."""
import os, struct, hashlib

HERE = os.path.dirname(os.path.abspath(__file__))

def write(target, items):
    directory = os.path.join(HERE, "Corpus", target)
    os.makedirs(directory, exist_ok=True)
    for name in os.listdir(directory):
        os.remove(os.path.join(directory, name))
    for index, data in enumerate(items):
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogateescape")
        with open(os.path.join(directory, "seed-%02d" % index), "wb") as f:
            f.write(data)

u8 = lambda v: struct.pack("<B", v)
u16 = lambda v: struct.pack("<H", v)
u32 = lambda v: struct.pack("<I", v)
u64 = lambda v: struct.pack("<Q", v)

# FuzzRange: size selector, size, maxRanges byte (value-2), header.
ranges = ["bytes=0-0", "bytes=0-499", "bytes=500-", "bytes=-500", "bytes=0-0,-1", "bytes=0-,0-,0-,0-",
          "bytes=1-2,4-5,7-8,10-11", "bytes=0-1,1-2,3-4", "BYTES = 1 - 2", "bytes=,,0-1,,",
          "bytes=99999999999999999999-", "bytes=-0", "bytes=5-4", "bytes=0-18446744073709551615",
          "items=0-1", "bytes=0-1;2-3", " bytes=\t-18446744073709551616 "]
write("FuzzRange", [u8(1) + u16(1000) + u8(6) + r.encode() for r in ranges]
      + [u8(0) + u8(0) + u8(102) + b"bytes=0-0", u8(4) + u8(0) + u8(3) + b"bytes=-1,0-0"])

# FuzzContentRange: mode byte (0 mod 4 = numeric round trip), then text.
content = ["bytes 0-499/1234", "bytes 0-499/*", "bytes */1234", "bytes */*", "bytes 5-4/10", "bytes 0-9/10",
           "bytes 0-10/10", "BYTES 1-2/3", "bytes  1-2/3", "bytes 1-2 /3", "bytes 0-18446744073709551614/*",
           "bytes 0-18446744073709551615/*", "bytes 9223372036854775807-9223372036854775807/*", "bytes -1-2/*"]
write("FuzzContentRange", [u8(1) + c.encode() for c in content] + [u8(0) + u64(5) + u8(0) + u64(10) + u8(0) + u8(1)])

# FuzzConditional: flags, presence mask, opaque NUL, lastModified u64, [now u64], 5 fields NUL-separated.
def conditional(flags, mask, opaque, fields, last=784111777 + 62167219200, now=None):
    data = u8(flags) + u8(mask) + opaque + b"\0" + u64(last)
    if flags & 4:
        data += u64(now if now is not None else last + 10)
    return data + b"\0".join(f.encode() for f in fields)

date = "Sun, 06 Nov 1994 08:49:37 GMT"
write("FuzzConditional", [
    conditional(2, 1, b"abc", ['"abc"', "", "", "", ""]),
    conditional(2, 1, b"abc", ['W/"abc", "x"', "", "", "", ""]),
    conditional(2, 2, b"abc", ["", '*', "", "", ""]),
    conditional(0, 2, b"abc", ["", '"a", W/"abc"', "", "", ""]),
    conditional(6, 4, b"abc", ["", "", date, "", ""]),
    conditional(6, 8, b"abc", ["", "", "", "Sunday, 06-Nov-94 08:49:37 GMT", ""]),
    conditional(6, 16, b"abc", ["", "", "", "", date]),
    conditional(2, 16, b"abc", ["", "", "", "", '"abc"']),
    conditional(3, 16, b"abc", ["", "", "", "", 'W/"abc"']),
    conditional(2, 31, b"", ['"a"b"', ",,", "Sun Nov  6 08:49:37 1994", "garbage", "\"\""]),
])

# FuzzHTTPDate: mode (bit0 text, bit1 with now), [now], then i64 or text.
dates = [date, "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994", "Sun Nov 06 08:49:37 1994",
         "Mon, 29 Feb 2021 00:00:00 GMT", "Tue, 29 Feb 2000 23:59:60 GMT", "Fri, 31 Dec 9999 23:59:60 GMT",
         "Sat, 01 Jan 0000 00:00:00 GMT", "sun, 06 nov 1994 08:49:37 gmt", "Thursday, 01-Jan-70 00:00:00 GMT"]
write("FuzzHTTPDate", [u8(1) + d.encode() for d in dates] + [u8(3) + u64(1700000000 + 62167219200) + b"Sunday, 06-Nov-94 08:49:37 GMT"]
      + [u8(0) + struct.pack("<q", v) for v in (0, -1, 784111777, 253402300799, -62167219200, 951782400, -(2**63), 2**63 - 1)])

# FuzzPatchBody: mode, bool + size, parameter NUL, body.
def patch(mode, size, parameter, body):
    return u8(mode) + u8(1) + u16(size) + parameter.encode() + b"\0" + body

mp = b"--B\r\nContent-Range: bytes 0-0/*\r\n\r\nh\r\n--B\r\nContent-Range: bytes 14-18/*\r\n\r\nWORLD\r\n--B--\r\n"
write("FuzzPatchBody", [
    patch(0, 20, "bytes 0-4/*", b"HELLO"),
    patch(0, 20, "bytes 20-21/22", b"!!"),
    patch(1, 20, "", b"Content-Range: bytes 7-12/*\r\n\r\nMAPPED"),
    patch(1, 20, "", b"Content-Range: bytes 0-1/*\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nab"),
    patch(1, 20, "", b"Content-Range: bytes 0-1/*\nX"),
    patch(3, 20, "", mp),
    patch(3, 20, "", b"preamble\r\n--B  \r\nContent-Range: bytes 20-21/24\r\n\r\nab\r\n--B\r\nContent-Range: bytes 22-23/24\r\n\r\ncd\r\n--B--  \r\nepilogue"),
    patch(3, 20, "", b"--B\r\nContent-Range: bytes 0-3/*\r\n\r\nabcd\r\n--B\r\nContent-Range: bytes 2-5/*\r\n\r\nefgh\r\n--B--"),
    patch(3, 20, "", b"--B\r\nContent-Range: bytes 0-1/*\r\nContent-Encoding: gzip\r\n\r\nab\r\n--B--"),
    patch(3, 20, "", b"--B\r\nContent-Range: bytes 0-1/*\r\n\r\nab\r\n--B"),
    patch(2, 20, "simple boundary", b"--simple boundary\r\nContent-Range: bytes 0-1/*\r\n\r\nab\r\n--simple boundary--"),
    patch(4, 20, 'multipart/byteranges; boundary="q u o t e d"', b"--q u o t e d\r\nContent-Range: bytes 0-1/*\r\n\r\nab\r\n--q u o t e d--"),
    patch(4, 20, "message/byterange; charset=x", b"Content-Range: bytes 0-0/*\r\n\r\nz"),
    patch(4, 20, "text/plain", b""),
])

# FuzzQuery: flags (bit0 no query, bit1 unlimited, bit2 big size), [limit u16], size, query.
queries = ["q=abc", "q=a&regex=true&icase=1", "q=%FF%00&start=-10&end=-1", "q=x&start=5&end=2",
           "q=x&limit=0", "q=x&limit=100000", "q=x&limit=-1", "q=&q=b", "q=a+b&reverse=True",
           "q=x&start=-9223372036854775808&end=9223372036854775807", "q=x&start=%2B5", "q=x&regex",
           "q=%zz", "start=1", "q=x&&&limit=5&limit=7"]
write("FuzzQuery", [u8(0) + u16(10000) + u16(1000) + q.encode() for q in queries] + [u8(1) + u16(5) + u16(5)])

# FuzzRequestTarget: mode (0 /files/, 1 /search/, 2 raw), rest.
targets = [(0, "a/b.txt"), (0, "a//./b"), (0, "%2e%2e/x"), (0, "..%2fx"), (0, "a%2F..%2Fb"), (0, "x%00.jpg"),
           (0, "dir/"), (0, "dir/."), (0, "%C3%A9"), (0, "%ff"), (0, "a?b=c%zz"), (0, "%2"), (1, "f.txt?q=x&limit=3"),
           (2, "/healthz"), (2, "/metrics?x"), (2, "/%66iles/a"), (2, "http://h/files/a"), (2, "/files"), (0, "a\x01b"),
           (0, ".../....")]
write("FuzzRequestTarget", [u8(m) + t.encode() for m, t in targets])

# FuzzJSONText: raw bytes.
write("FuzzJSONText", [b"plain", b'quote " backslash \\ slash /', b"\x00\x01\x1f\x7f", "é ✓ 😀".encode(),
                       b"\xff\xfe", b"\xe2\x82", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc0\xaf",
                       "\u2028\u2029".encode(), b"a\tb\nc\rd\x08e\x0cf"])
# FuzzGlob: pattern NUL path NUL name.
write("FuzzGlob", [b"a/b.txt\0a/b.txt\0x", b"**/*.c\0d/e/x.c\0y", b"f[0-9]?.log\0f1a.log\0z", b"logs/**\0logs\0a.log",
                   b"[!a-c]*/**/x\0d/q/x\0n", b"a\\*b\0a*b\0n", "café/?\0café/é\0n".encode(), b"[]]\0]\0n",
                   b"*a*a*a*b\0aaaaaaaaaaaaaaaa\0n", b"\xff?\0\xff\xfe\0n"])

# FuzzSignedLink: raw query, NUL, raw path after /files/.
signature = "ab" * 32
links = [("expires=1796172706&signature=" + signature, "docs/a.txt"), ("expires=1&signature=" + signature, "dir/"),
         ("signature=" + signature + "&expires=99", "dir//./x/"), ("expires=01&signature=" + signature, "a"),
         ("expires=1&signature=" + signature.upper(), "a%2Fb"), ("expires=1&expires=2&signature=" + signature, ""),
         ("expires=-5&signature=" + signature, "caf%C3%A9/"), ("expires=9999999999999999999&signature=00", "x/../y"),
         ("q=x&lines=1-2", "dir2/o.txt"), ("expires=%31&signature=" + signature, "%2e/dir/")]
write("FuzzSignedLink", [q.encode() + b"\x00" + p.encode() for q, p in links])

# FuzzAccept: flags (bit 0: no field), essence NUL, field.
accepts = ["text/html", "application/json", "application/json, text/html;q=0.9", "text/*;q=0.5, */*;q=0.1",
           "TEXT/HTML;Q=0", "*/json", "text/html;level=1, text/html;q=0.2", 'a/b;x="q=1, c/d";q=0.3, c/d',
           "text/html;q=1.001", "text/html;q=0.1234", ",,, ,", "*/*;q=0.000", 'text/html;q="0.5"', "application/json;q=1;ext=x"]
write("FuzzAccept", [u8(0) + b"application/json\0" + a.encode() for a in accepts] + [u8(1) + b"text/html\0"])

# FuzzViewQuery: a lines value, NUL, a raw query.
views = [("10-20", "lines=10-20"), ("7", "lines=-5&follow=true"), ("-", "follow=true&offset=100"),
         ("0", "lines=1-&line_numbers=false"), ("007-9", "line=3&offset=10&length=4&mode=hex"),
         ("99999999999999999999", "offset=5&expires=1&signature=ab%2F"), ("5-4", "q=x&glob=**/*.c&exclude=vendor/**&binary=text"),
         ("1-2-3", "q=x&cursor=00&hidden=true"), ("-0", "q=x&start=1"), ("+5", "length=1"), ("1,5", "follow=yes&lines=1-2")]
write("FuzzViewQuery", [l.encode() + b"\0" + q.encode() for l, q in views])
print("corpus written")

# FuzzRequestLine: a request line without its line end, as libmicrohttpd receives it.
lines = [b"GET /files/a.txt HTTP/1.1", b"GET /files/a.txt\0.secret HTTP/1.1", b"GE\0T /files/a.txt HTTP/1.1",
         b"GET\0X  /files/a.txt HTTP/1.1", b"G(T / HTTP/1.1", b"GET   /files/a b.txt HTTP/1.1",
         b"GET /files/a\xff.txt HTTP/1.1", b"PATCH /files/x?y=\0 HTTP/1.1", b"\x7f / HTTP/1.0"]
write("FuzzRequestLine", lines)

# FuzzMessageFraming: field lines separated by LF, each led by 0 (Content-Length) or 1 (Transfer-Encoding).
framings = [b"\x0010", b"\x0010\n\x0010", b"\x0010, 10", b"\x0010\n\x0011", b"\x01chunked", b"\x00 5\n\x01chunked",
            b"\x01identity", b"\x01gzip, chunked", b"\x01chunked, chunked", b"\x01 , chunked ,", b"\x00+5",
            b"\x0018446744073709551616", b"\x00", b"\x01"]
write("FuzzMessageFraming", framings)

"""Schemathesis hooks for mmapd's conformance run (loaded through SCHEMATHESIS_HOOKS).

Schemathesis knows neither the two PATCH envelope types nor NDJSON, so this file teaches it:
- `message/byterange` and `multipart/byteranges` bodies are sent as the generated text, UTF-8
  encoded; the multipart form gets the boundary `SEP` that the spec's example body uses;
- `application/x-ndjson` answers are read as a list of JSON values, one per line, which is how
  docs/openapi.yaml describes them (an array of `SearchStreamLine`);
- `follow=true` (files and searches) is sent as `follow=false`: a follow stream does not end
  while its file stands still, so no answer would ever be complete for the checks to read.
  Tests/python/test_follow*.py test the streams against the same server over real sockets.
"""

import json

import schemathesis
from schemathesis.transport import register_serializer


def _as_bytes(value):
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8")
    return json.dumps(value).encode("utf-8")


def _message_byterange(ctx, value):
    return {"data": _as_bytes(value)}


def _multipart_byteranges(ctx, value):
    # Schemathesis drops the Content-Type of multipart bodies and expects the serializer to name
    # the boundary; a bare `multipart/byteranges` would (rightly) be a 400 from mmapd.
    return {"data": _as_bytes(value), "headers": {"Content-Type": "multipart/byteranges; boundary=SEP"}}


register_serializer(_message_byterange, "message/byterange")
register_serializer(_multipart_byteranges, "multipart/byteranges")


@schemathesis.deserializer("application/x-ndjson")
def _ndjson(ctx, response):
    return [json.loads(line) for line in response.content.split(b"\n") if line.strip()]


_FOLLOW_VALUES = {"true", "1"}


@schemathesis.hook
def before_call(ctx, case, kwargs):
    follow = (case.query or {}).get("follow")
    if follow is True or str(follow).lower() in _FOLLOW_VALUES:
        case.query["follow"] = "false"

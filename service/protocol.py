"""uvicorn's own answer to a request it cannot parse, in the service's JSON error format.

A request line or header that HTTP/1.1 forbids (``Content-Length: abc``) never reaches the
app: uvicorn answers it with a plain-text 400 itself. Every other 4xx of this service is an
``ErrorResponse``, so clients parse one format; ``install()`` replaces that answer on the
HTTP/1.1 protocol classes uvicorn may use (h11, and httptools when installed). It is a
patch of one method, named in uvicorn's source; ``tests/service/test_live.py`` sends such a
request to a real server, so an uvicorn that renames the method fails the suite.
"""

from __future__ import annotations

import importlib
import json
from typing import Any

DETAIL = ("the request could not be parsed as HTTP/1.1: a malformed request line or header, "
          "such as a Content-Length that is not a number")
BODY = json.dumps({"error": "bad_request", "detail": DETAIL}).encode()
RESPONSE = (b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\n"
            b"content-length: %d\r\nconnection: close\r\n\r\n" % len(BODY)) + BODY
PROTOCOLS = (("uvicorn.protocols.http.h11_impl", "H11Protocol"),
             ("uvicorn.protocols.http.httptools_impl", "HttpToolsProtocol"))


def _send_json_400(self: Any, msg: str) -> None:
    """What uvicorn's ``send_400_response`` does, with the JSON body: write, then close."""
    self.transport.write(RESPONSE)
    self.transport.close()


def install() -> None:
    """Idempotent; a protocol whose module cannot be imported (httptools absent) is skipped."""
    for module_name, class_name in PROTOCOLS:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        protocol = getattr(module, class_name)
        if not hasattr(protocol, "send_400_response"):
            raise RuntimeError(f"{class_name} has no send_400_response: uvicorn changed; "
                               "see service/protocol.py")
        protocol.send_400_response = _send_json_400

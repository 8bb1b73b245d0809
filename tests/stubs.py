"""A local HTTP stub of the mini-program platform's code2session API.

Our real client (httpx) talks to it over a real socket; tests script its answers.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class PlatformStub:
    """`sessions` maps a login code to the platform's JSON answer."""

    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    delay_seconds: float = 0.0
    status: int = 200
    requests: list[dict[str, list[str]]] = field(default_factory=list)
    base_url: str = ""


@contextmanager
def platform_stub() -> Iterator[PlatformStub]:
    stub = PlatformStub()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            query = parse_qs(url.query)
            stub.requests.append(query)
            if stub.delay_seconds:
                time.sleep(stub.delay_seconds)
            if url.path != "/sns/jscode2session":
                body: dict[str, Any] = {"errcode": 404, "errmsg": "not found"}
            else:
                code = query.get("js_code", [""])[0]
                body = stub.sessions.get(code, {"errcode": 40029, "errmsg": "invalid code"})
            payload = json.dumps(body).encode()
            try:
                self.send_response(stub.status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout tests)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    stub.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()

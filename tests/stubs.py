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


class _BusyServer(ThreadingHTTPServer):
    request_queue_size = 256  # many deliverers connect at once in the race tests


@dataclass
class GatewayRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class GatewayStub:
    """A gateway the outbox sends to (push, SMS, webhook receiver, WeChat's API).

    POSTs are answered from `answers` in order, then with `default`; `hang_seconds`
    delays every answer. `GET /cgi-bin/token` hands out WeChat access tokens
    `token-1`, `token-2`, ...
    """

    answers: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    default: tuple[int, dict[str, Any]] = (200, {"errcode": 0, "errmsg": "ok"})
    hang_seconds: float = 0.0
    requests: list[GatewayRequest] = field(default_factory=list)
    tokens_issued: int = 0
    base_url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def posts(self, path: str | None = None) -> list[GatewayRequest]:
        return [r for r in self.requests if r.method == "POST" and path in (None, r.path)]


@contextmanager
def gateway_stub() -> Iterator[GatewayStub]:
    stub = GatewayStub()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, body: dict[str, Any]) -> None:
            payload = json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout tests)

        def _record(self, body: bytes) -> GatewayRequest:
            url = urlsplit(self.path)
            request = GatewayRequest(
                method=self.command,
                path=url.path,
                query=parse_qs(url.query),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
            )
            with stub._lock:
                stub.requests.append(request)
            return request

        def do_GET(self) -> None:
            request = self._record(b"")
            if request.path != "/cgi-bin/token":
                self._answer(404, {"errcode": 404, "errmsg": "not found"})
                return
            with stub._lock:
                stub.tokens_issued += 1
                token = f"token-{stub.tokens_issued}"
            self._answer(200, {"access_token": token, "expires_in": 7200})

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            self._record(self.rfile.read(length))
            if stub.hang_seconds:
                time.sleep(stub.hang_seconds)
            with stub._lock:
                status, body = stub.answers.pop(0) if stub.answers else stub.default
            self._answer(status, body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = _BusyServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    stub.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()

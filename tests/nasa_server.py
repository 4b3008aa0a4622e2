"""A local stand-in for NASA's services: replays recorded responses, serves image bytes, injects faults.

Runs a threaded HTTP server on 127.0.0.1 at a random port.  JSON fixtures from ``tests/fixtures/nasa``
are replayed with NASA's host names rewritten to the server's own root, the way a mirror would serve
them, so the clients follow real links through the real HTTP stack.  Any path ending in an image
extension answers a small real image (a crop of a real Mars image, distinct per path).
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import socket
import struct
import threading
import time
from collections import defaultdict, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from PIL import Image

FIXTURES = Path(__file__).parent / "fixtures" / "nasa"
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".gif", ".webp")
NASA_PREFIXES = [f"{scheme}://{host}" for host in (
    "images-api.nasa.gov", "images-assets.nasa.gov", "mars.nasa.gov", "mars.jpl.nasa.gov",
    "pds-imaging.jpl.nasa.gov", "planetarydata.jpl.nasa.gov") for scheme in ("https", "http")]

#: What the Atlas IV Data Access API takes after a file's path: its release (``::3``) and a WebP size (``:md``).
ATLAS_SUFFIX = re.compile(r"(::\d+)?(:(xs|sm|md|lg))?$")

#: Faults a test can queue on a path with :meth:`NasaServer.fail_next`.
#: ``trickle`` sends the headers, then the body one byte per ``trickle_interval``; ``trickle-headers``
#: sends the status line and headers that way too.  Either stops after ``trickle_seconds``, or when the
#: client goes away or the server closes.
FAULTS = ("500", "429", "reset", "truncate", "slow", "malformed", "html", "redirect", "trickle",
          "trickle-headers")


class NasaServer:
    """The server and its per-test configuration.

    Use as a context manager.  ``routes`` maps a path (or a prefix ending in ``*``) to a fixture name,
    a dict, bytes (a file, served as it is), a ``(status, fixture)`` pair, or a function ``(query, path) ->``
    one of those (for a POST, `query` is the JSON body sent);
    :meth:`pages` builds one that picks a fixture by a paging parameter.  ``log`` records every request
    path and query; ``max_inflight`` is the most image requests served at once.
    """

    def __init__(self, slow_seconds: float = 2.0, retry_after: int = 1, trickle_seconds: float = 60.0,
                 trickle_interval: float = 1.0):
        self.routes: dict[str, object] = {}
        self.faults: dict[str, deque] = defaultdict(deque)
        self.log: list[tuple[str, dict]] = []
        self.user_agents: set[str] = set()
        self.slow_seconds = slow_seconds
        self.trickle_seconds = trickle_seconds
        self.trickle_interval = trickle_interval
        self.closed = threading.Event()
        self.retry_after = retry_after
        self.redirect_to = "http://10.0.0.1/elsewhere.jpg"
        self.image_delay = 0.0
        self.inflight = 0
        self.max_inflight = 0
        self._lock = threading.Lock()
        self._images: dict[str, bytes] = {}
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.nasa = self
        self.root = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    def __enter__(self) -> "NasaServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.closed.set()
        self._server.shutdown()
        self._server.server_close()

    @staticmethod
    def pages(param: str, by_page: dict, default: str | dict | None = None):
        """A route answering ``by_page[int(query[param])]`` (or `default`)."""

        def route(query, path):
            try:
                page = int(query.get(param, ["-1"])[0])
            except ValueError:
                page = -1
            return by_page.get(page, default)

        return route

    def fail_next(self, path: str, *faults: str) -> None:
        """Queue faults for the next requests to `path`, one per request, then answer normally."""
        for fault in faults:
            assert fault in FAULTS, fault
            self.faults[path].append(fault)

    def requests_to(self, path: str) -> int:
        return sum(1 for logged, _ in self.log if logged == path)

    def image_requests(self) -> list[str]:
        return [path for path, _ in self.log if path.lower().endswith(IMAGE_SUFFIXES)]

    def rewrite(self, text: str) -> str:
        for prefix in NASA_PREFIXES:
            text = text.replace(prefix, self.root)
        return text

    def image_bytes(self, path: str) -> bytes:
        """A small real image for `path`: a crop of a fixture image at an offset derived from the path."""
        with self._lock:
            if path not in self._images:
                sources = sorted((FIXTURES / "images").glob("*.jpg"))
                digest = hashlib.sha256(path.encode()).digest()
                source = sources[digest[0] % len(sources)]
                with Image.open(source) as image:
                    image = image.convert("RGB")
                    side = min(image.size) * 3 // 4
                    left = digest[1] % (image.width - side + 1)
                    top = digest[2] % (image.height - side + 1)
                    crop = image.crop((left, top, left + side, top + side))
                buffer = io.BytesIO()
                crop.save(buffer, "PNG" if path.lower().endswith(".png") else "JPEG", quality=90)
                self._images[path] = buffer.getvalue()
            return self._images[path]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; without this, Nagle's algorithm and delayed ACKs
        # add 40 ms to every keep-alive request.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, *args) -> None:
        pass

    @property
    def nasa(self) -> NasaServer:
        return self.server.nasa

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        try:
            sent = json.loads(body)
        except ValueError:
            sent = {"unreadable body": body.decode("latin-1")}
        self.do_GET(sent)

    def do_GET(self, sent: dict | None = None) -> None:
        parts = urlsplit(self.path)
        path, query = parts.path, parse_qs(parts.query) if sent is None else sent
        nasa = self.nasa
        with nasa._lock:
            nasa.log.append((path, query))
            nasa.user_agents.add(self.headers.get("User-Agent", ""))
            fault = nasa.faults[path].popleft() if nasa.faults[path] else None
        if fault:
            return self._fault(fault, path)
        route = nasa.routes.get(path)
        if route is None:
            prefixes = [key for key in nasa.routes if key.endswith("*") and path.startswith(key[:-1])]
            route = nasa.routes[max(prefixes, key=len)] if prefixes else None
        if route is None and ATLAS_SUFFIX.sub("", path).lower().endswith(IMAGE_SUFFIXES):
            return self._image(path)
        answer = route(query, path) if callable(route) else route
        if answer is None:
            return self._send(404, b"<html><body><h1>404 Not Found</h1></body></html>", "text/html")
        if isinstance(answer, tuple):
            status, answer = answer
        else:
            status = 200
        if isinstance(answer, bytes):
            kind = "application/xml" if path.lower().endswith(".xml") else "application/octet-stream"
            return self._send(status, answer, kind)
        text = json.dumps(answer) if isinstance(answer, (dict, list)) else (FIXTURES / answer).read_text()
        self._send(status, nasa.rewrite(text).encode(), "application/json")

    def _image(self, path: str) -> None:
        nasa = self.nasa
        with nasa._lock:
            nasa.inflight += 1
            nasa.max_inflight = max(nasa.max_inflight, nasa.inflight)
        try:
            if nasa.image_delay:
                time.sleep(nasa.image_delay)
            body = nasa.image_bytes(path)
            self._send(200, body, "image/png" if path.lower().endswith(".png") else "image/jpeg")
        finally:
            with nasa._lock:
                nasa.inflight -= 1

    def _fault(self, fault: str, path: str) -> None:
        nasa = self.nasa
        if fault == "500":
            self._send(500, b'{"reason": "Internal error"}', "application/json")
        elif fault == "429":
            self._send(429, b'{"reason": "slow down"}', "application/json",
                       {"Retry-After": str(nasa.retry_after)})
        elif fault == "reset":
            # SO_LINGER with a zero timeout makes close() send RST instead of FIN.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
        elif fault == "truncate":
            body = nasa.image_bytes(path) if path.lower().endswith(IMAGE_SUFFIXES) else b'{"collection": {}}'
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
        elif fault == "slow":
            time.sleep(nasa.slow_seconds)
            self._send(200, b"{}", "application/json")
        elif fault == "malformed":
            self._send(200, b'{"collection": {"items": [{"href": ', "application/json")
        elif fault == "html":
            # A proxy's error page with status 200, as maintenance pages often are.
            self._send(200, b"<html><head><title>Service Unavailable</title></head>"
                            b"<body><h1>The service is under maintenance</h1></body></html>", "text/html")
        elif fault in ("trickle", "trickle-headers"):
            image = path.lower().endswith(IMAGE_SUFFIXES)
            body = nasa.image_bytes(path) if image else b'{"collection": {}}'
            head = (f"HTTP/1.1 200 OK\r\nContent-Type: {'image/jpeg' if image else 'application/json'}\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n").encode()
            if fault == "trickle":
                self.wfile.write(head)
                self._trickle(body)
            else:
                self._trickle(head + body)
            self.close_connection = True
        elif fault == "redirect":
            self.send_response(302)
            self.send_header("Location", nasa.redirect_to)
            self.send_header("Content-Length", "0")
            self.end_headers()

    def _trickle(self, data: bytes) -> None:
        nasa = self.nasa
        end = time.monotonic() + nasa.trickle_seconds
        for offset in range(len(data)):
            try:
                self.wfile.write(data[offset:offset + 1])
            except OSError:
                return
            if nasa.closed.wait(nasa.trickle_interval) or time.monotonic() > end:
                return

    def _send(self, status: int, body: bytes, content_type: str, headers: dict | None = None) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

"""Polite, bounded HTTP for NASA's services: one configured session, JSON fetches and streamed downloads.

Every request goes through :class:`NasaSession`, made by :func:`make_session`.  It has a timeout on every
read and a deadline on every whole request, retries 429 and 5xx answers and bodies that break off with
back-off (honouring ``Retry-After`` up to a cap), sends a descriptive User-Agent, keeps a per-host request
rate and a per-host concurrency limit, and only talks to allowed hosts: the configured NASA hosts plus
one explicit API root.  :meth:`NasaSession.abort` stops every request in flight at once.  Failures
surface as :class:`~marsviz.errors.SourceError` (the service is unusable) or
:class:`~marsviz.errors.FetchError` (one download failed); no message shows the password of a URL.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import socket
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import LocationParseError, MaxRetryError, ProtocolError, ReadTimeoutError
from urllib3.poolmanager import pool_classes_by_scheme
from urllib3.util import parse_url
from urllib3.util.retry import Retry

import marsviz
from marsviz import config
from marsviz.errors import Cancelled, CatalogError, FetchError, HTTPStatusError, SourceError

PROJECT_URL = "https://github.com/marsviz/marsviz"
USER_AGENT = f"marsviz/{marsviz.__version__} (+{PROJECT_URL}; Mars image triage)"
RETRY_STATUSES = (429, 500, 502, 503, 504)
_CHUNK = 64 * 1024


# The authority runs to the first "/", "?", "#" or space; its user info to the last "@", as urllib3 reads it.
_USER_INFO = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*://)([^/?#\s]*)@")


def redact(text: str) -> str:
    """Hide the user info of every URL in `text`: ``http://user:***@host/`` (``http://***@host/`` for a token).

    Parameters
    ----------
    text : str
        A URL, or a message holding URLs.

    Returns
    -------
    str

    Examples
    --------
    >>> redact("could not reach http://me:secret@mirror.example/api")
    'could not reach http://me:***@mirror.example/api'
    """
    return _USER_INFO.sub(lambda m: m[1] + (m[2].split(":", 1)[0] + ":***@" if ":" in m[2] else "***@"), text)


class HostPolicy:
    """Which URLs a session may request: http(s) to the allowed hosts, or to the explicit API root.

    Parameters
    ----------
    api_root : str or None
        A base URL the caller chose on purpose (a mirror, or a test server on 127.0.0.1).  Its
        scheme, host and port are allowed even when private or loopback, but never a link-local
        (169.254.0.0/16, fe80::/10: cloud metadata services) or unspecified (0.0.0.0, ::) address.
    hosts : iterable of str, optional
        Allowed host names; the ``nasa_hosts`` setting by default.

    Raises
    ------
    SourceError
        `api_root` is not an http(s) URL, or is a link-local or unspecified address.
    """

    def __init__(self, api_root: str | None = None, hosts=None):
        if hosts is None:
            hosts = config.get("nasa_hosts").split(",")
        self.hosts = frozenset(h.strip().lower() for h in hosts if h.strip())
        self.root_origin = _origin(api_root) if api_root else None
        if api_root and self.root_origin is None:
            raise SourceError(f"API root {redact(api_root)!r} is not an http(s) URL")
        if self.root_origin:
            kind = _forbidden_address(self.root_origin[1])
            if kind:
                raise SourceError(f"API root {redact(api_root)!r} is {kind}; marsviz never contacts link-local "
                                  "(169.254.0.0/16, fe80::/10, where cloud metadata services answer) or "
                                  "unspecified (0.0.0.0, ::) addresses")

    def check(self, url: str) -> None:
        """Raise :class:`FetchError` unless `url` may be requested."""
        origin = _origin(url)
        shown = redact(url)
        if origin is None:
            raise FetchError(f"refused {shown!r}: only http and https URLs are fetched")
        if origin == self.root_origin:
            return
        host = origin[1]
        if _is_private_host(host):
            raise FetchError(f"refused {shown!r}: private or loopback address")
        if host not in self.hosts:
            raise FetchError(f"refused {shown!r}: {host} is not a NASA host marsviz is allowed to contact")


def check_app_api_root(api_root: str) -> None:
    """Raise :class:`SourceError` unless a visitor of the web app may scrape from `api_root`.

    A visitor may name a NASA host (``nasa_hosts``) or a root the server's operator listed in the
    ``app_api_roots`` setting (same scheme, host and port); nothing else, so visitors cannot make the
    server fetch its own network.

    Parameters
    ----------
    api_root : str
        The root typed into the app.

    Raises
    ------
    SourceError
        The root is not an http(s) URL, or is neither a NASA host nor an allowed root.
    """
    origin = _origin(api_root)
    if origin is None:
        raise SourceError(f"API root {redact(api_root)!r} is not an http(s) URL")
    allowed = {_origin(root) for root in config.get("app_api_roots").split(",") if root.strip()}
    policy = HostPolicy(None)
    if origin in allowed or origin[1] in policy.hosts:
        return
    raise SourceError(f"API root {redact(api_root)!r} is not allowed in the web app: it only contacts NASA's hosts "
                      f"({', '.join(sorted(policy.hosts))}). The server's operator can allow other roots with "
                      "the app_api_roots setting (MARSVIZ_APP_API_ROOTS).")


def _origin(url: str) -> tuple[str, str, int] | None:
    # Parsed the way urllib3 parses it to connect, so the host checked is the host contacted:
    # urlsplit reads "http://evil.example\@images-api.nasa.gov/" as the NASA host, urllib3 as evil.example.
    try:
        parts = parse_url(url.strip())
    except LocationParseError:
        return None
    scheme = (parts.scheme or "").lower()
    host = (parts.host or "").strip("[]").lower()
    if scheme not in ("http", "https") or not host:
        return None
    return scheme, host, parts.port or (443 if scheme == "https" else 80)


def _is_private_host(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return not address.is_global


def _forbidden_address(host: str) -> str:
    """What is wrong with `host` as an API root, or "" if nothing."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        try:  # the forms the resolver also reads as IPv4: 2852039166, 0xa9fea9fe, 169.254.43518
            address = ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return ""
    if getattr(address, "ipv4_mapped", None):
        address = address.ipv4_mapped
    if address.is_link_local:
        return "a link-local address"
    if address.is_unspecified:
        return "the unspecified address"
    return ""


class RateLimiter:
    """At most `rate` request starts per second for each host.

    Parameters
    ----------
    rate : float
        Requests per second per host; 0 or less means no limit.
    clock, sleep : callable, optional
        Time source and sleeper (injectable so the spacing can be tested without waiting).
    """

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self._clock = clock
        self._sleep = sleep
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, host: str) -> None:
        """Block until a request to `host` may start."""
        if not self.interval:
            return
        with self._lock:
            now = self._clock()
            start = max(now, self._next.get(host, now))
            self._next[host] = start + self.interval
        if start > now:
            self._sleep(start - now)


# -- deadlines and abort ------------------------------------------------------------------------------
class _Stopped(Exception):
    """Raised inside urllib3 once a transfer is stopped; not a network error, so urllib3 does not retry it."""


class _Transfer:
    """One get_json or download call: its connection in use, its deadline, and why it was stopped."""

    def __init__(self, deadline: float):
        self.deadline = deadline
        self.reason = ""  # "deadline" or "cancelled" once stopped
        self.stopped = threading.Event()
        self._connection = None
        self._timer: threading.Timer | None = None
        self._finished = False
        self._lock = threading.Lock()

    def watch(self, connection) -> None:
        """`connection` connects or sends a request for this transfer; each of those gets the whole deadline."""
        with self._lock:
            if self.reason:
                raise _Stopped()
            connection.marsviz_transfer = self
            self._connection = connection
            if self._timer is not None:
                self._timer.cancel()
            if self.deadline > 0:
                self._timer = threading.Timer(self.deadline, self.stop, ("deadline",))
                self._timer.daemon = True
                self._timer.start()

    def check(self) -> None:
        if self.reason:
            raise _Stopped()

    def stop(self, reason: str) -> None:
        """End the transfer now: shut its socket down, so a blocked read returns at once."""
        with self._lock:
            if self.reason or self._finished:
                return
            self.reason = reason
            connection = self._connection
        self.stopped.set()
        sock = getattr(connection, "sock", None)
        if sock is not None and getattr(connection, "marsviz_transfer", None) is self:
            try:
                # socket.socket's own shutdown: ssl.SSLSocket.shutdown would also drop its TLS state.
                socket.socket.shutdown(sock, socket.SHUT_RDWR)
            except OSError:
                pass

    def finish(self) -> None:
        with self._lock:
            self._finished = True
            if self._timer is not None:
                self._timer.cancel()


_current = threading.local()


def _transfer() -> _Transfer | None:
    return getattr(_current, "transfer", None)


def _pause(seconds: float) -> None:
    """Sleep between retries; a stopped transfer wakes up at once."""
    transfer = _transfer()
    if transfer is None:
        time.sleep(seconds)
    elif transfer.stopped.wait(seconds):
        raise _Stopped()


class _Watched:
    """Mixin for urllib3's connection classes: each request is watched by the calling thread's transfer."""

    def request(self, *args, **kw):
        transfer = _transfer()
        if transfer is not None:
            transfer.watch(self)
        return super().request(*args, **kw)

    def _new_conn(self):
        # Watched from here too: urllib3 sets up TLS before it calls request(), and a stop that comes
        # while the socket was still being made must not be missed.
        self.sock = sock = super()._new_conn()
        transfer = _transfer()
        if transfer is not None:
            transfer.watch(self)
        return sock


class _WatchedHTTPConnection(_Watched, HTTPConnection):
    pass


class _WatchedHTTPSConnection(_Watched, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class _CappedRetry(Retry):
    """urllib3 ``Retry`` that stops, instead of sleeping, when ``Retry-After`` exceeds a cap.

    Its waits end at once when the request is stopped (deadline or abort).
    """

    max_retry_after: float = 120.0

    def new(self, **kw):
        retry = super().new(**kw)
        retry.max_retry_after = self.max_retry_after
        return retry

    def get_retry_after(self, response):
        header = response.headers.get("Retry-After")
        if header is None:
            return None
        seconds = self.parse_retry_after(header)
        if seconds > self.max_retry_after:
            raise SourceError(
                f"the server asked marsviz to wait {seconds:.0f} s before retrying (Retry-After), longer "
                f"than the {self.max_retry_after:.0f} s allowed by http_max_retry_after; stopping. "
                "Try again later.")
        return seconds

    def sleep(self, response=None):
        seconds = self.get_retry_after(response) if self.respect_retry_after_header and response else None
        seconds = seconds or self.get_backoff_time()
        if seconds > 0:
            _pause(seconds)


class _PolicyAdapter(HTTPAdapter):
    """Checks every outgoing request, including each redirect hop, and spaces requests per host."""

    def __init__(self, policy: HostPolicy, limiter: RateLimiter, **kw):
        self.policy = policy
        self.limiter = limiter
        super().__init__(**kw)

    def init_poolmanager(self, *args, **kw):
        super().init_poolmanager(*args, **kw)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}

    def proxy_manager_for(self, proxy, **kw):
        manager = super().proxy_manager_for(proxy, **kw)
        if manager.pool_classes_by_scheme is pool_classes_by_scheme:  # not SOCKS, which has its own
            manager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}
        return manager

    def send(self, request, **kw):
        self.policy.check(request.url)
        self.limiter.wait(urlsplit(request.url).hostname or "")
        return super().send(request, **kw)


class _Broken(Exception):
    """A body broke off after its headers: worth another try.  `message` is the error if no try is left."""

    def __init__(self, message: str, cause: Exception):
        super().__init__(message)
        self.message = message
        self.cause = cause


class NasaSession(requests.Session):
    """A ``requests.Session`` with marsviz's timeouts, deadlines, retries, limits and host policy.

    Make one with :func:`make_session`; share it between threads of one scrape run.  Attribute
    ``retry`` is the urllib3 ``Retry`` of every request; bodies that break off are retried with it too.
    """

    def __init__(self, policy: HostPolicy, *, timeout: float, retries: int, backoff: float,
                 max_retry_after: float, rate: float, concurrency: int, deadline: float = 0.0,
                 json_deadline: float = 0.0):
        super().__init__()
        self.policy = policy
        self.timeout = timeout
        self.deadline = deadline
        self.json_deadline = json_deadline
        self.concurrency = max(1, concurrency)
        self._slots: dict[str, threading.BoundedSemaphore] = {}
        self._slots_lock = threading.Lock()
        self._transfers: set[_Transfer] = set()
        self._aborted = False
        self.retry = _CappedRetry(total=retries, connect=retries, read=retries, status=retries,
                                  backoff_factor=backoff, status_forcelist=RETRY_STATUSES,
                                  # marsviz POSTs only read-only searches (Atlas IV): retrying them is safe.
                                  allowed_methods=frozenset({"GET", "HEAD", "POST"}), raise_on_status=False,
                                  respect_retry_after_header=True)
        self.retry.max_retry_after = max_retry_after
        adapter = _PolicyAdapter(policy, RateLimiter(rate), max_retries=self.retry,
                                 pool_connections=8, pool_maxsize=max(10, self.concurrency * 2))
        self.mount("http://", adapter)
        self.mount("https://", adapter)
        self.headers["User-Agent"] = USER_AGENT

    def request(self, method, url, **kw):
        kw.setdefault("timeout", self.timeout)
        return super().request(method, url, **kw)

    def abort(self) -> None:
        """Stop every get_json and download in flight at once, and refuse new ones.

        Their sockets are shut down, so reads blocked on a slow server return immediately; they raise
        :class:`Cancelled` and leave no file behind.  For cancelling a run; the session is spent after.
        """
        with self._slots_lock:
            self._aborted = True
            transfers = list(self._transfers)
        for transfer in transfers:
            transfer.stop("cancelled")

    @contextmanager
    def host_slot(self, url: str) -> Iterator[None]:
        """Hold one of the `concurrency` slots of the URL's host for the duration of a transfer."""
        host = urlsplit(url).hostname or ""
        with self._slots_lock:
            slot = self._slots.setdefault(host, threading.BoundedSemaphore(self.concurrency))
        with slot:
            yield

    def get_json(self, url: str, params: dict | None = None):
        """GET `url` and return its decoded JSON body.

        Parameters
        ----------
        url : str
            An allowed http(s) URL.
        params : dict, optional
            Query parameters; list values repeat the key.

        Returns
        -------
        object
            The decoded JSON.

        Raises
        ------
        SourceError
            Unreachable, timed out, over the ``http_json_deadline``, an error status
            (``HTTPStatusError``), an HTML page, or a body that is not valid JSON.
        Cancelled
            :meth:`abort` was called.
        """
        return self._json("GET", url, params=params)

    def post_json(self, url: str, body: dict):
        """POST `body` as JSON to `url` (a search, which changes nothing) and return the decoded JSON answer.

        Raises what :meth:`get_json` raises.
        """
        return self._json("POST", url, body=body)

    def _json(self, method: str, url: str, params: dict | None = None, body: dict | None = None):
        def attempt():
            with self.host_slot(url):
                try:
                    with self.request(method, url, params=params, json=body,
                                      headers={"Accept": "application/json"}, stream=True) as response:
                        answer = _read_body(response, url, self.timeout)
                        return response.status_code, response.headers.get("Content-Type", ""), response.url, answer
                except requests.RequestException as exc:
                    raise SourceError(_describe(exc, url, self.timeout)) from exc
                except urllib3.exceptions.HTTPError as exc:
                    message = f"{_host(url)}: connection failed while reading the answer ({exc})"
                    raise SourceError(redact(message)) from exc

        status, content_type, where, answer = self._call(url, self.json_deadline, "http_json_deadline",
                                                         SourceError, attempt)
        looks_html = "html" in content_type.lower() or answer.lstrip()[:1] == b"<"
        if status >= 400:
            reason = _json_reason(answer) or ("an HTML error page" if looks_html else _snippet(answer))
            raise HTTPStatusError(f"{_host(where)} answered HTTP {status}: {reason}", status)
        if looks_html:
            raise SourceError(f"{_host(where)} answered an HTML page where JSON was expected "
                              f"(HTTP {status}); the service may be down or its address may have moved")
        try:
            return json.loads(answer)
        except ValueError as exc:
            raise SourceError(f"{_host(where)} answered malformed JSON ({exc}): {_snippet(answer)}") from exc

    def read_start(self, url: str, max_bytes: int) -> bytes:
        """The first `max_bytes` bytes of the file at `url` (all of it when it is shorter).

        For a label, which is small or (attached to its image) at the start of a large file: the rest is
        not downloaded.

        Raises
        ------
        FetchError
            Unreachable, an error status or an HTML page, broken off on every try, over ``http_deadline``;
            :class:`Cancelled` when :meth:`abort` was called.
        """

        def attempt():
            with self.host_slot(url):
                try:
                    with self.get(url, stream=True) as response:
                        _refuse_other_than_a_file(response, redact(url))
                        return _read_body(response, url, self.timeout, cap=max_bytes, whole=False)
                except requests.RequestException as exc:
                    raise FetchError(_describe(exc, url, self.timeout)) from exc
                except urllib3.exceptions.HTTPError as exc:
                    raise FetchError(redact(f"{_host(url)}: connection failed while reading ({exc})")) from exc

        return self._call(url, self.deadline, "http_deadline", FetchError, attempt)

    def download(self, url: str, dest_dir: Path, max_bytes: int | None = None) -> Path:
        """Stream `url` into a new temporary file in `dest_dir` and return its path.

        The file is complete when this returns; on any failure nothing is left behind.  A body that
        breaks off is fetched again from the start, as many times as the session retries.  The caller
        owns the file (moves it into the store or deletes it).

        Parameters
        ----------
        url : str
            An allowed http(s) URL.
        dest_dir : Path
            Folder for the temporary file (on the same filesystem as the store, so a move is a rename).
        max_bytes : int, optional
            Size cap; the ``max_download_bytes`` setting by default.

        Returns
        -------
        Path
            The downloaded file, named ``download-<pid>-*.part``.

        Raises
        ------
        FetchError
            Unreachable, error status, an HTML page, over the size cap, truncated or reset on every
            try, or over the ``http_deadline``; :class:`Cancelled` when :meth:`abort` was called.
        SourceError
            The server asked to wait longer than ``http_max_retry_after``.
        CatalogError
            `dest_dir` cannot be written (disk full, file size limit, read-only folder).
        """
        cap = max_bytes if max_bytes is not None else config.get("max_download_bytes")
        dest_dir = Path(dest_dir)
        try:
            dest_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CatalogError(f"cannot create {dest_dir} ({exc.strerror or exc})") from None

        def attempt():
            with self.host_slot(url):
                try:
                    response = self.get(url, stream=True)
                except requests.RequestException as exc:
                    raise FetchError(_describe(exc, url, self.timeout)) from exc
                with response:
                    return _save(response, url, dest_dir, cap, self.timeout)

        return self._call(url, self.deadline, "http_deadline", FetchError, attempt)

    def _call(self, url: str, deadline: float, setting: str, error: type, attempt: Callable):
        """Run `attempt` as one transfer: under a deadline, stoppable by abort, again while its body breaks off."""
        transfer = _Transfer(deadline)
        with self._slots_lock:
            if self._aborted:
                raise Cancelled(f"{redact(url)}: cancelled")
            self._transfers.add(transfer)
        outer, _current.transfer = _transfer(), transfer
        retry = self.retry
        try:
            while True:
                try:
                    return attempt()
                except _Broken as broken:
                    transfer.check()
                    try:
                        retry = retry.increment("GET", url, error=broken.cause)
                    except MaxRetryError:
                        raise error(broken.message) from broken.cause
                    retry.sleep()
        except Exception as exc:
            if transfer.reason == "cancelled":
                raise Cancelled(f"{redact(url)}: cancelled") from exc
            if transfer.reason:
                raise error(f"{redact(url)}: took longer than {deadline:g} s ({setting}); abandoned") from exc
            raise
        finally:
            transfer.finish()
            _current.transfer = outer
            with self._slots_lock:
                self._transfers.discard(transfer)


def _refuse_other_than_a_file(response: requests.Response, shown: str, expected: str = "") -> None:
    """Raise :class:`FetchError` for an answer that is not the file asked for: an error status, or an HTML page
    (a proxy's or a host's error page), which is not `expected` (said in the message when given)."""
    if response.status_code != 200:
        raise FetchError(f"{shown}: HTTP {response.status_code}")
    if "html" in response.headers.get("Content-Type", "").lower():
        raise FetchError(f"{shown}: answered an HTML page" + (f", not {expected}" if expected else ""))


def _save(response: requests.Response, url: str, dest_dir: Path, cap: int, timeout: float) -> Path:
    shown = redact(url)
    _refuse_other_than_a_file(response, shown, "an image")
    declared = _content_length(response)
    if declared is not None and declared > cap:
        raise FetchError(f"{shown}: {declared} bytes is over the {cap}-byte download limit")
    # The process id in the name lets a later run tell a killed run's leftovers from live downloads.
    try:
        fd, name = tempfile.mkstemp(dir=dest_dir, prefix=f"download-{os.getpid()}-", suffix=".part")
    except OSError as exc:
        raise CatalogError(f"cannot write to {dest_dir} ({exc.strerror or exc})") from None
    path = Path(name)
    try:
        written = 0
        with os.fdopen(fd, "wb", buffering=0) as out:  # unbuffered: a full disk fails in write(), below
            for chunk in response.raw.stream(_CHUNK, decode_content=True):
                written += len(chunk)
                if written > cap:
                    raise FetchError(f"{shown}: over the {cap}-byte download limit")
                _write(out, chunk, dest_dir)
        if declared is not None and response.raw.tell() != declared:
            message = f"{shown}: truncated ({response.raw.tell()} of {declared} bytes)"
            raise _Broken(message, ProtocolError(message))
        if written == 0:
            raise FetchError(f"{shown}: empty answer")
    except ReadTimeoutError as exc:
        path.unlink(missing_ok=True)
        raise _Broken(f"{shown}: no data for {timeout:g} s; download abandoned", exc) from exc
    except (ProtocolError, OSError) as exc:  # local write failures are CatalogError (see _write)
        path.unlink(missing_ok=True)
        raise _Broken(f"{shown}: connection broken during download ({type(exc).__name__})", exc) from exc
    except (urllib3.exceptions.HTTPError, requests.RequestException) as exc:
        path.unlink(missing_ok=True)
        raise FetchError(f"{shown}: connection broken during download ({type(exc).__name__})") from exc
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def _write(out, chunk: bytes, dest_dir: Path) -> None:
    # A local write failure (disk full, file size limit, read-only folder) is not a network fault:
    # raise CatalogError so the run stops with the real cause instead of failing every next item.
    try:
        view = memoryview(chunk)
        while view:
            view = view[out.write(view):]
    except OSError as exc:
        raise CatalogError(f"cannot write to {dest_dir} ({exc.strerror or exc})") from None


def _read_body(response: requests.Response, url: str, timeout: float, cap: int | None = None,
               whole: bool = True) -> bytes:
    """The body, at most `cap` bytes (default ``max_download_bytes``); :class:`_Broken` if it breaks off
    before its end or the cap.  A longer body is refused when `whole`, else cut at the cap."""
    cap = config.get("max_download_bytes") if cap is None else cap
    chunks, size = [], 0
    try:
        for chunk in response.iter_content(_CHUNK):
            if size + len(chunk) > cap:
                if whole:
                    raise SourceError(f"{_host(response.url)}: answer larger than {cap} bytes")
                chunks.append(chunk[:cap - size])
                break
            size += len(chunk)
            chunks.append(chunk)
    except (requests.exceptions.ChunkedEncodingError, requests.ConnectionError) as exc:
        cause = exc.args[0] if exc.args and isinstance(exc.args[0], Exception) else exc
        if isinstance(cause, ReadTimeoutError):
            message = f"{_host(url)} stopped sending its answer for {timeout:g} s ({redact(url)})"
        else:
            message = f"{_host(url)}: the answer broke off before its end ({redact(url)})"
        raise _Broken(message, cause) from exc
    return b"".join(chunks)


def _content_length(response: requests.Response) -> int | None:
    if response.headers.get("Content-Encoding", "identity").lower() != "identity":
        return None
    try:
        return int(response.headers["Content-Length"])
    except (KeyError, ValueError):
        return None


def _describe(exc: requests.RequestException, url: str, timeout: float) -> str:
    host = _host(url)
    shown = redact(url)
    cause = exc.args[0] if exc.args else None
    if isinstance(cause, MaxRetryError):
        cause = cause.reason
    # urllib3's NewConnectionError (refused, no route) subclasses its timeout error; it is not one.
    refused = isinstance(cause, urllib3.exceptions.NewConnectionError)
    if not refused and (isinstance(exc, requests.Timeout) or isinstance(cause, urllib3.exceptions.TimeoutError)):
        return f"{host} did not answer within {timeout:g} s ({shown})"
    if isinstance(exc, requests.TooManyRedirects):
        return f"{host}: too many redirects ({shown})"
    if isinstance(exc, requests.ConnectionError):
        return f"could not reach {host} ({shown}): the service is unreachable or dropped the connection"
    return redact(f"{host}: request failed ({type(exc).__name__}: {exc})")


def _json_reason(body: bytes) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        return ""
    if isinstance(data, dict):
        for key in ("reason", "message", "msg", "error"):
            value = data.get(key)
            if isinstance(value, dict):  # Solr: {"msg"}; Elasticsearch: {"reason", "root_cause": [{"reason"}]}
                causes = value.get("root_cause")
                cause = causes[0] if isinstance(causes, list) and causes and isinstance(causes[0], dict) else {}
                value = value.get("message") or value.get("msg") or cause.get("reason") or value.get("reason")
            if isinstance(value, str) and value:
                return value[:300]
    return ""


def _snippet(body: bytes, size: int = 80) -> str:
    text = body[:size].decode("utf-8", "replace")
    return repr(text + ("..." if len(body) > size else ""))


def _host(url: str) -> str:
    return urlsplit(url).netloc.rpartition("@")[2] or redact(url)


def make_session(api_root: str | None = None, *, timeout: float | None = None, retries: int | None = None,
                 backoff: float | None = None, max_retry_after: float | None = None,
                 rate: float | None = None, concurrency: int | None = None, deadline: float | None = None,
                 json_deadline: float | None = None) -> NasaSession:
    """Build the session every NASA request goes through.

    Parameters
    ----------
    api_root : str, optional
        An extra base URL allowed besides the ``nasa_hosts`` (a mirror, or a local test server); never
        a link-local or unspecified address.
    timeout, retries, backoff, max_retry_after, rate, concurrency, deadline, json_deadline : optional
        Override the settings ``http_timeout``, ``http_retries``, ``http_backoff``,
        ``http_max_retry_after``, ``http_rate``, ``http_concurrency``, ``http_deadline`` and
        ``http_json_deadline``.

    Returns
    -------
    NasaSession

    Raises
    ------
    SourceError
        `api_root` is not allowed (see :class:`HostPolicy`).

    Examples
    --------
    >>> session = make_session()
    >>> session.headers["User-Agent"].startswith("marsviz/")
    True
    """

    def pick(value, name):
        return config.get(name) if value is None else value

    return NasaSession(HostPolicy(api_root), timeout=float(pick(timeout, "http_timeout")),
                       retries=int(pick(retries, "http_retries")), backoff=float(pick(backoff, "http_backoff")),
                       max_retry_after=float(pick(max_retry_after, "http_max_retry_after")),
                       rate=float(pick(rate, "http_rate")), concurrency=int(pick(concurrency, "http_concurrency")),
                       deadline=float(pick(deadline, "http_deadline")),
                       json_deadline=float(pick(json_deadline, "http_json_deadline")))

"""Polite, bounded HTTP for NASA's services: one configured session, JSON fetches and streamed downloads.

Every request goes through :class:`NasaSession`, made by :func:`make_session`.  It has a timeout on every
call, retries 429 and 5xx answers with back-off (honouring ``Retry-After`` up to a cap), sends a
descriptive User-Agent, keeps a per-host request rate and a per-host concurrency limit, and only talks
to allowed hosts: the configured NASA hosts plus one explicit API root.  Failures surface as
:class:`~marsviz.errors.SourceError` (the service is unusable) or :class:`~marsviz.errors.FetchError`
(one download failed).
"""

from __future__ import annotations

import ipaddress
import json
import os
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
from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url
from urllib3.util.retry import Retry

import marsviz
from marsviz import config
from marsviz.errors import CatalogError, FetchError, SourceError

PROJECT_URL = "https://github.com/marsviz/marsviz"
USER_AGENT = f"marsviz/{marsviz.__version__} (+{PROJECT_URL}; Mars image triage)"
RETRY_STATUSES = (429, 500, 502, 503, 504)
_CHUNK = 64 * 1024


class HTTPStatusError(SourceError):
    """A service answered with an HTTP error status.

    Parameters
    ----------
    message : str
        What happened, for a user.
    status : int
        The HTTP status code.
    """

    def __init__(self, message: str, status: int):
        self.status = status
        super().__init__(message)


class HostPolicy:
    """Which URLs a session may request: http(s) to the allowed hosts, or to the explicit API root.

    Parameters
    ----------
    api_root : str or None
        A base URL the caller chose on purpose (a mirror, or a test server on 127.0.0.1).  Its
        scheme, host and port are allowed even when private or loopback.
    hosts : iterable of str, optional
        Allowed host names; the ``nasa_hosts`` setting by default.
    """

    def __init__(self, api_root: str | None = None, hosts=None):
        if hosts is None:
            hosts = config.get("nasa_hosts").split(",")
        self.hosts = frozenset(h.strip().lower() for h in hosts if h.strip())
        self.root_origin = _origin(api_root) if api_root else None
        if api_root and self.root_origin is None:
            raise SourceError(f"API root {api_root!r} is not an http(s) URL")

    def check(self, url: str) -> None:
        """Raise :class:`FetchError` unless `url` may be requested."""
        origin = _origin(url)
        if origin is None:
            raise FetchError(f"refused {url!r}: only http and https URLs are fetched")
        if origin == self.root_origin:
            return
        host = origin[1]
        if _is_private_host(host):
            raise FetchError(f"refused {url!r}: private or loopback address")
        if host not in self.hosts:
            raise FetchError(f"refused {url!r}: {host} is not a NASA host marsviz is allowed to contact")


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


class _CappedRetry(Retry):
    """urllib3 ``Retry`` that stops, instead of sleeping, when ``Retry-After`` exceeds a cap."""

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


class _PolicyAdapter(HTTPAdapter):
    """Checks every outgoing request, including each redirect hop, and spaces requests per host."""

    def __init__(self, policy: HostPolicy, limiter: RateLimiter, **kw):
        self.policy = policy
        self.limiter = limiter
        super().__init__(**kw)

    def send(self, request, **kw):
        self.policy.check(request.url)
        self.limiter.wait(urlsplit(request.url).hostname or "")
        return super().send(request, **kw)


class NasaSession(requests.Session):
    """A ``requests.Session`` with marsviz's timeouts, retries, limits and host policy.

    Make one with :func:`make_session`; share it between threads of one scrape run.
    """

    def __init__(self, policy: HostPolicy, *, timeout: float, retries: int, backoff: float,
                 max_retry_after: float, rate: float, concurrency: int):
        super().__init__()
        self.policy = policy
        self.timeout = timeout
        self.concurrency = max(1, concurrency)
        self._slots: dict[str, threading.BoundedSemaphore] = {}
        self._slots_lock = threading.Lock()
        retry = _CappedRetry(total=retries, connect=retries, read=retries, status=retries,
                             backoff_factor=backoff, status_forcelist=RETRY_STATUSES,
                             allowed_methods=frozenset({"GET", "HEAD"}), raise_on_status=False,
                             respect_retry_after_header=True)
        retry.max_retry_after = max_retry_after
        adapter = _PolicyAdapter(policy, RateLimiter(rate), max_retries=retry,
                                 pool_connections=8, pool_maxsize=max(10, self.concurrency * 2))
        self.mount("http://", adapter)
        self.mount("https://", adapter)
        self.headers["User-Agent"] = USER_AGENT

    def request(self, method, url, **kw):
        kw.setdefault("timeout", self.timeout)
        return super().request(method, url, **kw)

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
            Unreachable, timed out, an error status (``HTTPStatusError``), an HTML page, or a body that
            is not valid JSON.
        """
        with self.host_slot(url):
            try:
                with self.get(url, params=params, headers={"Accept": "application/json"},
                              stream=True) as response:
                    body = _read_capped(response, config.get("max_download_bytes"))
                    status = response.status_code
                    content_type = response.headers.get("Content-Type", "")
                    where = response.url
            except requests.RequestException as exc:
                raise SourceError(_describe(exc, url, self.timeout)) from exc
            except urllib3.exceptions.HTTPError as exc:
                raise SourceError(f"{_host(url)}: connection failed while reading the answer ({exc})") from exc
        looks_html = "html" in content_type.lower() or body.lstrip()[:1] == b"<"
        if status >= 400:
            reason = _json_reason(body) or ("an HTML error page" if looks_html else _snippet(body))
            raise HTTPStatusError(f"{_host(where)} answered HTTP {status}: {reason}", status)
        if looks_html:
            raise SourceError(f"{_host(where)} answered an HTML page where JSON was expected "
                              f"(HTTP {status}); the service may be down or its address may have moved")
        try:
            return json.loads(body)
        except ValueError as exc:
            raise SourceError(f"{_host(where)} answered malformed JSON ({exc}): {_snippet(body)}") from exc

    def download(self, url: str, dest_dir: Path, max_bytes: int | None = None) -> Path:
        """Stream `url` into a new temporary file in `dest_dir` and return its path.

        The file is complete when this returns; on any failure nothing is left behind.  The caller
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
            Unreachable, error status, an HTML page, over the size cap, truncated or reset.
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
        with self.host_slot(url):
            try:
                response = self.get(url, stream=True)
            except requests.RequestException as exc:
                raise FetchError(_describe(exc, url, self.timeout)) from exc
            with response:
                return _save(response, url, dest_dir, cap, self.timeout)


def _save(response: requests.Response, url: str, dest_dir: Path, cap: int, timeout: float) -> Path:
    if response.status_code != 200:
        raise FetchError(f"{url}: HTTP {response.status_code}")
    if "html" in response.headers.get("Content-Type", "").lower():
        raise FetchError(f"{url}: answered an HTML page, not an image")
    declared = _content_length(response)
    if declared is not None and declared > cap:
        raise FetchError(f"{url}: {declared} bytes is over the {cap}-byte download limit")
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
                    raise FetchError(f"{url}: over the {cap}-byte download limit")
                _write(out, chunk, dest_dir)
        if declared is not None and response.raw.tell() != declared:
            raise FetchError(f"{url}: truncated ({response.raw.tell()} of {declared} bytes)")
        if written == 0:
            raise FetchError(f"{url}: empty answer")
    except urllib3.exceptions.ReadTimeoutError as exc:
        path.unlink(missing_ok=True)
        raise FetchError(f"{url}: no data for {timeout:g} s; download abandoned") from exc
    except (urllib3.exceptions.HTTPError, requests.RequestException, OSError) as exc:
        path.unlink(missing_ok=True)
        raise FetchError(f"{url}: connection broken during download ({type(exc).__name__})") from exc
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


def _read_capped(response: requests.Response, cap: int) -> bytes:
    chunks, size = [], 0
    for chunk in response.iter_content(_CHUNK):
        size += len(chunk)
        if size > cap:
            raise SourceError(f"{_host(response.url)}: answer larger than {cap} bytes")
        chunks.append(chunk)
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
    cause = exc.args[0] if exc.args else None
    if isinstance(cause, urllib3.exceptions.MaxRetryError):
        cause = cause.reason
    # urllib3's NewConnectionError (refused, no route) subclasses its timeout error; it is not one.
    refused = isinstance(cause, urllib3.exceptions.NewConnectionError)
    if not refused and (isinstance(exc, requests.Timeout) or isinstance(cause, urllib3.exceptions.TimeoutError)):
        return f"{host} did not answer within {timeout:g} s ({url})"
    if isinstance(exc, requests.TooManyRedirects):
        return f"{host}: too many redirects ({url})"
    if isinstance(exc, requests.ConnectionError):
        return f"could not reach {host} ({url}): the service is unreachable or dropped the connection"
    return f"{host}: request failed ({type(exc).__name__}: {exc})"


def _json_reason(body: bytes) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        return ""
    if isinstance(data, dict):
        for key in ("reason", "message", "msg", "error"):
            value = data.get(key)
            if isinstance(value, dict):
                value = value.get("message") or value.get("msg")
            if isinstance(value, str) and value:
                return value[:300]
    return ""


def _snippet(body: bytes, size: int = 80) -> str:
    text = body[:size].decode("utf-8", "replace")
    return repr(text + ("..." if len(body) > size else ""))


def _host(url: str) -> str:
    return urlsplit(url).netloc or url


def make_session(api_root: str | None = None, *, timeout: float | None = None, retries: int | None = None,
                 backoff: float | None = None, max_retry_after: float | None = None,
                 rate: float | None = None, concurrency: int | None = None) -> NasaSession:
    """Build the session every NASA request goes through.

    Parameters
    ----------
    api_root : str, optional
        An extra base URL allowed besides the ``nasa_hosts`` (a mirror, or a local test server).
    timeout, retries, backoff, max_retry_after, rate, concurrency : optional
        Override the settings ``http_timeout``, ``http_retries``, ``http_backoff``,
        ``http_max_retry_after``, ``http_rate`` and ``http_concurrency``.

    Returns
    -------
    NasaSession

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
                       rate=float(pick(rate, "http_rate")), concurrency=int(pick(concurrency, "http_concurrency")))

"""The HTTP layer against a real local server that misbehaves on purpose."""

from __future__ import annotations

import threading
import time

import pytest

from marsviz.errors import FetchError, SourceError
from marsviz.fetch import Cancelled, HostPolicy, HTTPStatusError, RateLimiter, make_session
from nasa_server import NasaServer

SEARCH = "images-api-2-search-last-page-no-links.json"
IMAGE = "/image/PIA00001/PIA00001~medium.jpg"


@pytest.fixture
def server():
    with NasaServer(slow_seconds=1.5, retry_after=1) as running:
        running.routes["/search"] = SEARCH
        yield running


def session_for(server, **overrides):
    options = dict(timeout=1.0, retries=2, backoff=0.0, rate=0, concurrency=4, max_retry_after=5)
    options.update(overrides)
    return make_session(server.root, **options)


def test_get_json_replays_the_recording(server):
    data = session_for(server).get_json(server.root + "/search", {"q": "mars"})
    assert [item["data"][0]["nasa_id"] for item in data["collection"]["items"]] == [
        "sts065-05-037", "sts065-214-010"]
    assert server.log[-1][1] == {"q": ["mars"]}


def test_user_agent_names_marsviz(server):
    session_for(server).get_json(server.root + "/search")
    (agent,) = server.user_agents
    assert agent.startswith("marsviz/") and "+http" in agent


@pytest.mark.parametrize("fault", ["500", "429", "reset", "slow"])
def test_transient_fault_is_retried(server, fault):
    server.fail_next("/search", fault)
    data = session_for(server).get_json(server.root + "/search")
    assert data["collection"]["items"]
    assert server.requests_to("/search") == 2


@pytest.mark.parametrize("fault, words", [("500", "HTTP 500"), ("reset", "could not reach"),
                                          ("slow", "did not answer within")])
def test_fault_without_retries_is_a_clear_source_error(server, fault, words):
    server.fail_next("/search", fault)
    with pytest.raises(SourceError, match=words):
        session_for(server, retries=0).get_json(server.root + "/search")


def test_retries_are_bounded(server):
    server.fail_next("/search", "500", "500", "500", "500")
    with pytest.raises(HTTPStatusError) as caught:
        session_for(server, retries=2).get_json(server.root + "/search")
    assert caught.value.status == 500
    assert server.requests_to("/search") == 3


def test_retry_after_longer_than_the_cap_stops(server):
    server.retry_after = 600
    server.fail_next("/search", "429")
    with pytest.raises(SourceError, match="Retry-After") as caught:
        session_for(server, max_retry_after=5).get_json(server.root + "/search")
    assert not isinstance(caught.value, FetchError)
    assert server.requests_to("/search") == 1


@pytest.mark.parametrize("fault, words", [("malformed", "malformed JSON"), ("html", "HTML page")])
def test_garbage_is_a_clear_source_error(server, fault, words):
    server.fail_next("/search", fault)
    with pytest.raises(SourceError, match=words):
        session_for(server).get_json(server.root + "/search")


def test_error_status_carries_the_service_reason(server):
    server.routes["/search"] = (400, "images-api-4-search-error-400.json")
    with pytest.raises(HTTPStatusError, match="Expected 'q' text search parameter") as caught:
        session_for(server).get_json(server.root + "/search")
    assert caught.value.status == 400


def test_html_404_is_an_http_status_error(server):
    with pytest.raises(HTTPStatusError, match="HTTP 404: an HTML error page"):
        session_for(server).get_json(server.root + "/no/such/path")


def test_unreachable_service():
    with NasaServer() as gone:
        root = gone.root
    with pytest.raises(SourceError, match="could not reach"):
        make_session(root, retries=0, timeout=1.0).get_json(root + "/search")


def test_download_writes_the_exact_bytes(server, tmp_path):
    path = session_for(server).download(server.root + IMAGE, tmp_path)
    assert path.parent == tmp_path and path.suffix == ".part"
    assert path.read_bytes() == server.image_bytes(IMAGE)
    assert list(tmp_path.iterdir()) == [path]


@pytest.mark.parametrize("fault, words", [("truncate", "truncated|connection broken"),
                                          ("reset", "could not reach"), ("html", "HTML page"),
                                          ("slow", "did not answer within")])
def test_failed_download_leaves_no_file(server, tmp_path, fault, words):
    server.fail_next(IMAGE, fault)
    with pytest.raises(FetchError, match=words):
        session_for(server, retries=0).download(server.root + IMAGE, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_download_over_the_size_cap_leaves_no_file(server, tmp_path):
    with pytest.raises(FetchError, match="limit"):
        session_for(server).download(server.root + IMAGE, tmp_path, max_bytes=100)
    assert list(tmp_path.iterdir()) == []


def test_download_retries_a_500(server, tmp_path):
    server.fail_next(IMAGE, "500")
    path = session_for(server).download(server.root + IMAGE, tmp_path)
    assert path.read_bytes() == server.image_bytes(IMAGE)


@pytest.mark.parametrize("target", ["http://10.0.0.1/x.jpg", "http://169.254.169.254/latest/meta-data",
                                    "http://localhost:8080/x.jpg", "https://example.com/x.jpg"])
def test_redirect_off_the_allow_list_is_refused(server, tmp_path, target):
    server.redirect_to = target
    server.fail_next(IMAGE, "redirect")
    with pytest.raises(FetchError, match="refused"):
        session_for(server).download(server.root + IMAGE, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_redirect_within_the_root_is_followed(server, tmp_path):
    server.redirect_to = server.root + "/image/other.jpg"
    server.fail_next(IMAGE, "redirect")
    path = session_for(server).download(server.root + IMAGE, tmp_path)
    assert path.read_bytes() == server.image_bytes("/image/other.jpg")


def test_policy_allows_nasa_hosts_and_the_root_only():
    policy = HostPolicy("http://127.0.0.1:8123", hosts=["images-api.nasa.gov"])
    policy.check("https://images-api.nasa.gov/search?q=mars")
    policy.check("http://127.0.0.1:8123/anything")
    for url in ["ftp://images-api.nasa.gov/x", "http://127.0.0.1:8124/x", "http://[::1]:8123/x",
                "https://images-api.nasa.gov.evil.example/x", "file:///etc/passwd", "http://192.168.1.5/x"]:
        with pytest.raises(FetchError, match="refused"):
            policy.check(url)


def test_policy_rejects_a_root_that_is_not_http():
    with pytest.raises(SourceError):
        HostPolicy("file:///tmp")


def test_rate_limiter_spaces_requests_per_host():
    now = [100.0]
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(4.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(3):
        limiter.wait("mars.nasa.gov")
    limiter.wait("images-api.nasa.gov")
    assert slept == [pytest.approx(0.25), pytest.approx(0.25)]
    now[0] += 10
    limiter.wait("mars.nasa.gov")
    assert len(slept) == 2


def test_concurrency_per_host_is_bounded(server, tmp_path):
    server.image_delay = 0.2
    session = session_for(server, concurrency=2)
    errors = []

    def fetch(n):
        try:
            session.download(f"{server.root}/image/{n}.jpg", tmp_path)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=fetch, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(list(tmp_path.iterdir())) == 6
    assert 1 <= server.max_inflight <= 2


# -- bodies that break off are retried ----------------------------------------------------------------
def test_a_download_broken_off_is_retried_and_the_partial_file_discarded(server, tmp_path):
    server.fail_next(IMAGE, "truncate")
    path = session_for(server, retries=2).download(server.root + IMAGE, tmp_path)
    assert path.read_bytes() == server.image_bytes(IMAGE)
    assert list(tmp_path.iterdir()) == [path]
    assert server.requests_to(IMAGE) == 2


def test_a_json_answer_broken_off_is_retried(server):
    server.fail_next("/search", "truncate")
    data = session_for(server, retries=2).get_json(server.root + "/search")
    assert data["collection"]["items"]
    assert server.requests_to("/search") == 2


def test_broken_bodies_use_the_retry_count_and_backoff_of_the_session(server, tmp_path, monkeypatch):
    import marsviz.fetch

    waits = []
    monkeypatch.setattr(marsviz.fetch, "_pause", waits.append)
    server.fail_next(IMAGE, "truncate", "truncate", "truncate", "truncate")
    with pytest.raises(FetchError, match="connection broken during download"):
        session_for(server, retries=2, backoff=0.3).download(server.root + IMAGE, tmp_path)
    assert server.requests_to(IMAGE) == 3
    # urllib3's Retry schedule: no wait before the first retry, backoff * 2 ** (n - 1) before the n-th.
    assert waits == [pytest.approx(0.6)]
    assert list(tmp_path.iterdir()) == []


# -- deadlines and abort ------------------------------------------------------------------------------
@pytest.mark.parametrize("fault", ["trickle", "trickle-headers"])
def test_a_trickling_download_is_abandoned_at_the_deadline(server, tmp_path, fault):
    server.fail_next(IMAGE, fault)  # 1 byte per second (each read well within the 5 s timeout), up to 60 s
    started = time.monotonic()
    with pytest.raises(FetchError, match=r"took longer than 2 s \(http_deadline\)"):
        session_for(server, timeout=5, deadline=2).download(server.root + IMAGE, tmp_path)
    assert time.monotonic() - started < 20
    assert server.requests_to(IMAGE) == 1  # not retried: it would only trickle again
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("fault", ["trickle", "trickle-headers"])
def test_a_trickling_json_answer_is_abandoned_at_its_deadline(server, fault):
    server.fail_next("/search", fault)
    started = time.monotonic()
    with pytest.raises(SourceError, match=r"took longer than 2 s \(http_json_deadline\)"):
        session_for(server, timeout=5, json_deadline=2).get_json(server.root + "/search")
    assert time.monotonic() - started < 20
    assert server.requests_to("/search") == 1


@pytest.mark.parametrize("call", ["download", "get_json"])
def test_abort_stops_requests_in_flight_at_once_and_refuses_new_ones(server, tmp_path, call):
    session = session_for(server, timeout=5)
    path = IMAGE if call == "download" else "/search"
    server.fail_next(path, "trickle")
    errors = []

    def run():
        try:
            if call == "download":
                session.download(server.root + path, tmp_path)
            else:
                session.get_json(server.root + path)
        except Exception as exc:  # noqa: BLE001 - checked below
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    deadline = time.monotonic() + 30
    while server.requests_to(path) == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # the server is trickling now
    session.abort()
    thread.join(10)
    assert not thread.is_alive()
    (error,) = errors
    assert isinstance(error, Cancelled) and "cancelled" in str(error)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(Cancelled):
        session.download(server.root + IMAGE, tmp_path)
    assert server.requests_to(IMAGE) == (1 if call == "download" else 0)

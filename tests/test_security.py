"""Attackers: hostile metadata shown inert in a real browser, names never used as paths, the fetcher
talking only to allowed hosts, and the Streamlit server settings.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from hostile.corpus import bands, encode
from marsviz import config
from marsviz.catalog import Catalog
from marsviz.errors import FetchError, SourceError
from marsviz.fetch import HostPolicy, make_session
from marsviz.pipeline import add_bytes
from marsviz.provenance import Provenance
from marsviz.store import ContentStore
from nasa_server import NasaServer

ROOT = Path(__file__).resolve().parents[1]

#: Each payload sets ``window.__pwned`` or opens a dialog if it ever runs.
PAYLOADS = {
    "title": "<script>window.__pwned='title';alert('title')</script><img src=x onerror=\"window.__pwned='img'\">",
    "description": ("[click me](javascript:window.__pwned='md-link') ![i](javascript:alert('md-image')) "
                    "<a href=\"javascript:alert('a')\">a</a> <iframe src=\"javascript:alert('iframe')\"></iframe> "
                    "$\\href{javascript:alert('katex')}{tex}$ <svg onload=\"alert('svg')\"></svg> **bold**"),
    "credit": "<img src=x onerror=\"alert('credit')\"> ![tracker](http://198.51.100.7/pixel.png)",
    "mission": "javascript:alert('mission')",
    "instrument": "<style>body{display:none}</style>[x](javascript:alert('instrument'))",
    "page_url": "javascript:alert('page_url')",
    "file_url": "javascript:window.__pwned='file_url'",
    "date_taken": "\"><script>alert('date')</script>",
}
HOSTILE_NAME = "[evil](javascript:alert('name'))<script>alert('n')</script>.png"
JAVASCRIPT_LINKS = "a[href^='javascript:' i], a[*|href^='javascript:' i], [src^='javascript:' i], iframe"


# -- server settings -----------------------------------------------------------------------------------------
def test_streamlit_config_turns_on_xsrf_hides_errors_and_caps_uploads_at_the_decode_limit():
    settings = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert settings["server"]["enableXsrfProtection"] is True
    assert settings["server"]["enableCORS"] is True
    assert settings["client"]["showErrorDetails"] == "none"
    # Streamlit counts maxUploadSize in MiB (starlette_routes: maxUploadSize * 1024 * 1024).
    assert settings["server"]["maxUploadSize"] * 1024 * 1024 == config.SETTINGS["max_upload_bytes"].default


def test_streamlit_reads_the_config_file():
    script = ("from streamlit import config; config.get_config_options(force_reparse=True); "
              "print(config.get_option('server.enableXsrfProtection'), config.get_option('client.showErrorDetails'), "
              "config.get_option('server.maxUploadSize'))")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.stdout.split() == ["True", "none", "50"], done.stderr


#: First release fixing the newest advisory we know of (docs/reliability.md lists the advisories).
ADVISORY_FLOORS = {"pillow": "12.3.0", "streamlit": "1.54.0", "urllib3": "2.7.0"}


def test_requirements_floors_are_above_the_advisories_and_installed_versions_meet_them():
    import importlib.metadata

    from packaging.requirements import Requirement
    from packaging.version import Version

    requirements = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            requirement = Requirement(line)
            requirements[requirement.name.lower()] = requirement
    for name, fixed in ADVISORY_FLOORS.items():
        floors = [Version(spec.version) for spec in requirements[name].specifier if spec.operator == ">="]
        assert floors and min(floors) >= Version(fixed), (name, requirements[name])
        assert Version(importlib.metadata.version(name)) in requirements[name].specifier


# -- names are never paths -------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["../../../../tmp/marsviz-escape.png", "/etc/cron.d/evil.png", "..", ".",
                                  "images/00/" + "0" * 64 + ".png", "C:\\Windows\\evil.png", "a\x00b.png"])
def test_upload_names_never_become_paths(tmp_path, name):
    catalog = Catalog(tmp_path / "home")
    before = {p for p in Path("/tmp").glob("marsviz-escape*")}
    data = encode(bands("RGB", (64, 48), (200, 10, 10), (10, 10, 200)), "PNG")
    result = add_bytes(catalog, data, Provenance(source="upload", name=name))
    assert result.status == "added"
    files = {p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file()}
    sha = catalog.get(result.image_id)["sha256"]
    assert files == {Path("home/catalog.sqlite"), Path(f"home/images/{sha[:2]}/{sha}.png"),
                     Path(f"home/thumbnails/{sha[:2]}/{sha}.jpg")} | {f for f in files if f.name.startswith(
                         "catalog.sqlite-")}
    assert {p for p in Path("/tmp").glob("marsviz-escape*")} == before
    assert catalog.get(result.image_id)["name"] == name  # kept as text, shown as text


@pytest.mark.parametrize("digest", ["../" * 21 + "x", "0" * 63 + "/", "A" * 64, "0" * 65, ""])
def test_store_refuses_anything_but_a_hex_digest_as_a_name(tmp_path, digest):
    with pytest.raises(ValueError):
        ContentStore(tmp_path).path_for(digest, ".png")


def test_scraped_ids_and_urls_never_become_paths(tmp_path):
    """A feed whose image id and file URL are path traversals: stored by content hash only."""
    home = tmp_path / "home"
    hostile_id = "../../../../tmp/marsviz-scrape-escape"
    with NasaServer() as server:
        server.routes["/rss/api/"] = {"images": [{
            "imageid": hostile_id, "sol": 1, "sample_type": "Full", "camera": {"instrument": "NAVCAM"},
            "title": PAYLOADS["title"], "caption": PAYLOADS["description"],
            "image_files": {"full_res": "https://mars.nasa.gov/a/%2e%2e/%2e%2e/..%2f..%2fevil.png"}}],
            "per_page": "1", "page": 0, "total_results": 1}
        done = subprocess.run([sys.executable, "-m", "marsviz", "--home", str(home), "scrape", "mars2020",
                               "--api-root", server.root], cwd=ROOT, capture_output=True, text=True, timeout=120,
                              env={**os.environ, "PYTHONPATH": str(ROOT), "MARSVIZ_HTTP_RATE": "0"})
    assert done.returncode == 0, done.stderr
    (row,) = [Catalog(home).get(i) for i in Catalog(home).frame()["id"]]
    assert row["source_id"] == hostile_id and row["title"] == PAYLOADS["title"]
    sha = row["sha256"]
    files = {p.relative_to(home).as_posix() for p in home.rglob("*") if p.is_file()}
    assert {f"images/{sha[:2]}/{sha}.png", f"thumbnails/{sha[:2]}/{sha}.jpg"} <= files
    assert all(f.startswith(("images/", "thumbnails/", "catalog.sqlite")) for f in files), files
    assert not list(Path("/tmp").glob("marsviz-scrape-escape*")) and not list(Path("/tmp").glob("evil.png"))


# -- the fetcher talks only to allowed hosts -------------------------------------------------------------------
@pytest.mark.parametrize("url", [
    "http://evil.example\\@images-api.nasa.gov/x",        # urllib3 connects to evil.example
    "http://evil.example:80\\@images-api.nasa.gov/x",
    "https://images-api.nasa.gov@evil.example/x",          # user info, then the real host
    "https://images-api.nasa.gov:443@evil.example/x",
    "http://evil.example#@images-api.nasa.gov/",
    "http://images-api.nasa.gov.evil.example/",
    "http://[::ffff:127.0.0.1]/", "http://[::1]/", "http://0.0.0.0/", "http://169.254.169.254/latest/meta-data",
    "http://2130706433/", "http://0x7f000001/", "http://localhost/", "http://app.localhost/",
    "gopher://images-api.nasa.gov/", "file:///etc/passwd", "data:text/plain,hi", "javascript:alert(1)",
    "//images-api.nasa.gov/x", "images-api.nasa.gov/x", ""])
def test_policy_refuses_tricks(url):
    with pytest.raises(FetchError, match="refused"):
        HostPolicy(None).check(url)


def test_policy_allows_the_real_hosts_in_any_case():
    policy = HostPolicy(None)
    for host in config.get("nasa_hosts").split(","):
        policy.check(f"https://{host.upper()}/search?q=mars")


@pytest.fixture
def two_servers():
    """A configured root, and another local server that must never be contacted."""
    with NasaServer() as root, NasaServer() as other:
        yield root, other


@pytest.mark.parametrize("target", ["{other}/image/x.jpg", "http://localhost:{other_port}/x.jpg",
                                    "http://[::1]:{other_port}/x.jpg", "http://127.0.0.2:{root_port}/x.jpg",
                                    "file:///etc/passwd", "ftp://127.0.0.1/x"])
def test_redirects_elsewhere_are_refused_before_any_request(two_servers, tmp_path, target):
    root, other = two_servers
    root.redirect_to = target.format(other=other.root, other_port=other.root.rsplit(":", 1)[1],
                                     root_port=root.root.rsplit(":", 1)[1], root_host=root.root.split("//")[1])
    root.fail_next("/image/a.jpg", "redirect")
    session = make_session(root.root, timeout=2, retries=0, backoff=0, rate=0)
    with pytest.raises(FetchError):
        session.download(root.root + "/image/a.jpg", tmp_path)
    assert other.log == [] and list(tmp_path.iterdir()) == []


def test_a_redirect_with_a_parser_trick_never_reaches_the_other_server(two_servers, tmp_path):
    root, other = two_servers
    # requests re-quotes the backslash into the user info (%5C), so this lands on the root itself.
    root.redirect_to = f"{other.root}\\@{root.root.split('//')[1]}/x.jpg"
    root.fail_next("/image/a.jpg", "redirect")
    session = make_session(root.root, timeout=2, retries=0, backoff=0, rate=0)
    try:
        session.download(root.root + "/image/a.jpg", tmp_path)
    except FetchError:
        pass
    assert other.log == [] and root.requests_to("/x.jpg") <= 1


def test_a_direct_request_with_a_parser_trick_never_reaches_the_other_server(two_servers):
    root, other = two_servers
    session = make_session(root.root, timeout=2, retries=0, backoff=0, rate=0)
    trick = f"{other.root}\\@{root.root.split('//')[1]}/search"
    with pytest.raises(FetchError, match="refused"):
        session.get_json(trick)
    assert other.log == []


def test_redirect_loop_is_a_clear_error(tmp_path):
    with NasaServer() as root:
        root.redirect_to = root.root + "/image/a.jpg"
        root.fail_next("/image/a.jpg", *["redirect"] * 40)
        session = make_session(root.root, timeout=2, retries=0, backoff=0, rate=0)
        with pytest.raises(FetchError, match="redirect"):
            session.download(root.root + "/image/a.jpg", tmp_path)
        assert root.requests_to("/image/a.jpg") <= 31  # requests' limit of 30 redirects, plus the first


# -- hostile metadata in the real app, in headless Chromium ----------------------------------------------------
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def hostile_app(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    from tests.browser import app_server, chromium

    home = tmp_path_factory.mktemp("hostile-home")
    catalog = Catalog(home)
    ids = []
    for number, (top, bottom) in enumerate([((200, 40, 40), (40, 40, 200)), ((40, 200, 40), (200, 200, 40)),
                                            ((90, 90, 90), (220, 220, 220))]):
        data = encode(bands("RGB", (96, 64), top, bottom), "PNG")
        provenance = Provenance(source="nasa-images", name=HOSTILE_NAME if number == 0 else f"plain-{number}.png",
                                source_id=f"hostile-{number}", **(PAYLOADS if number == 0 else {}))
        ids.append(add_bytes(catalog, data, provenance).image_id)
    with app_server(home) as url, chromium() as browser:
        yield url, ids[0], browser


def open_watched(browser, url):
    """A page that records dialogs, page errors and requests leaving 127.0.0.1."""
    context = browser.new_context(viewport={"width": 1500, "height": 1300})
    page = context.new_page()
    seen = {"dialogs": [], "errors": [], "foreign": []}
    page.on("dialog", lambda dialog: (seen["dialogs"].append(dialog.message), dialog.dismiss()))
    page.on("pageerror", lambda error: seen["errors"].append(str(error)))
    page.on("request", lambda request: None if request.url.startswith(("http://127.0.0.1", "data:", "blob:"))
            else seen["foreign"].append(request.url))
    page.goto(url)
    return context, page, seen


def assert_inert(page, seen):
    assert seen["dialogs"] == [], seen["dialogs"]
    assert page.evaluate("() => window.__pwned === undefined")
    assert page.locator(JAVASCRIPT_LINKS).count() == 0
    assert page.locator("img[src='x'], svg[onload], [onerror]").count() == 0
    assert page.evaluate("() => getComputedStyle(document.body).display") != "none"
    assert seen["foreign"] == [], seen["foreign"]


@pytest.mark.browser
@pytest.mark.parametrize("path", ["/explore?image={id}", "/?image={id}"])
def test_hostile_metadata_is_shown_as_text_and_never_runs(hostile_app, path):
    from tests.browser import wait_for_app

    url, image_id, browser = hostile_app
    context, page, seen = open_watched(browser, url + path.format(id=image_id))
    try:
        wait_for_app(page)
        page.wait_for_selector("h4", timeout=60000)
        page.get_by_text("Metadata and provenance").first.click()
        page.wait_for_timeout(1500)
        wait_for_app(page)
        assert_inert(page, seen)
        text = page.inner_text("body")
        # Shown, literally, as the characters NASA (or an attacker) sent.
        assert "<script>alert('n')</script>.png" in text or "alert('n')" in text
        assert "[click me](javascript:window.__pwned='md-link')" in text
        assert "![tracker](http://198.51.100.7/pixel.png)" in text  # a Markdown table cell would load it
        assert page.locator("[data-testid='stException']").count() == 0
    finally:
        context.close()


@pytest.mark.browser
def test_hostile_file_names_in_uploads_are_shown_as_text(hostile_app, tmp_path):
    from tests.browser import wait_for_app

    url, _, browser = hostile_app
    bad = tmp_path / "<img src=x onerror=alert('upload')>[x](javascript:alert(1)).png"
    bad.write_bytes(b"<script>alert('content')</script>")
    good = tmp_path / "<svg onload=alert('good')>.png"
    good.write_bytes(encode(bands("RGB", (80, 64), (1, 120, 250), (250, 120, 1)), "PNG"))
    context, page, seen = open_watched(browser, url + "/upload")
    try:
        wait_for_app(page)
        page.locator("input[type='file']").set_input_files([str(bad), str(good)])
        page.locator("[data-testid='stAlert']").filter(has_text="onerror").first.wait_for(timeout=60000)
        page.wait_for_timeout(1000)
        assert_inert(page, seen)
        assert "not added" in page.inner_text("body")
        assert page.locator("[data-testid='stException']").count() == 0
    finally:
        context.close()


@pytest.mark.browser
def test_the_browser_refuses_an_upload_over_the_configured_size(hostile_app, tmp_path):
    from tests.browser import wait_for_app

    url, _, browser = hostile_app
    big = tmp_path / "huge_mars.jpg"
    big.write_bytes(encode(bands("RGB", (80, 64), (9, 9, 9), (99, 99, 99)), "JPEG")
                    + b"\x00" * config.SETTINGS["max_upload_bytes"].default)
    context, page, seen = open_watched(browser, url + "/upload")
    try:
        wait_for_app(page)
        page.locator("input[type='file']").set_input_files(str(big))
        page.get_by_text("or smaller").first.wait_for(timeout=30000)
        page.wait_for_timeout(1000)
        text = page.inner_text("body")
        assert "File must be 50.0MB or smaller" in text, text[-800:]
        assert "was not added" not in text  # never reached marsviz: refused by the uploader itself
        assert_inert(page, seen)
    finally:
        context.close()


@pytest.mark.browser
def test_the_running_server_refuses_an_upload_without_the_xsrf_token(hostile_app):
    """A cross-site form cannot post a file: the server wants the token from its own cookie."""
    import requests

    url, _, _ = hostile_app
    answer = requests.put(f"{url}/_stcore/upload_file/some-session/some-file", timeout=10,
                          files={"file": ("evil.png", b"\x89PNG\r\n\x1a\n", "image/png")},
                          headers={"Origin": "http://evil.example"})
    assert answer.status_code == 403 and "XSRF" in answer.text, (answer.status_code, answer.text[:200])


# -- API roots: link-local never, the web app only what the operator allows, passwords never shown ------------
@pytest.mark.parametrize("root", ["http://169.254.169.254/", "http://169.254.169.254:80/latest/meta-data",
                                  "https://[fe80::1]/", "http://[::ffff:169.254.169.254]/", "http://2852039166/",
                                  "http://0xa9fea9fe/", "http://0.0.0.0:8000/", "http://[::]/", "http://0/"])
def test_a_link_local_or_unspecified_api_root_is_refused_even_on_the_command_line(root):
    with pytest.raises(SourceError, match="link-local|unspecified"):
        make_session(root)


@pytest.mark.parametrize("root", ["http://127.0.0.1:8123", "http://[::1]:8123/", "http://10.1.2.3/",
                                  "http://192.168.1.5:8080/mirror", "https://mirror.example/"])
def test_a_loopback_or_private_api_root_stays_allowed_on_the_command_line(root):
    make_session(root).policy.check(root.rstrip("/") + "/search")


def test_the_command_line_refuses_an_unspecified_api_root_with_a_message(tmp_path, capsys):
    from marsviz.cli import main

    # 0.0.0.0 (unspecified) rather than 169.254.169.254: were the check gone, this would still not leave the machine.
    assert main(["--home", str(tmp_path / "home"), "scrape", "msl", "--api-root",
                 f"http://0.0.0.0:{_closed_port()}/"]) == 2
    err = capsys.readouterr().err
    assert "is the unspecified address" in err and "Traceback" not in err


def test_the_web_app_allows_nasa_hosts_and_the_operators_roots_only(monkeypatch):
    from marsviz.fetch import check_app_api_root

    monkeypatch.delenv("MARSVIZ_APP_API_ROOTS", raising=False)
    check_app_api_root("https://images-api.nasa.gov")
    check_app_api_root("https://MARS.NASA.GOV/")
    for root in ["http://127.0.0.1:8501/", "http://localhost/", "http://10.0.0.1/", "http://169.254.169.254/",
                 "https://images-api.nasa.gov.evil.example/", "https://mirror.example/"]:
        with pytest.raises(SourceError, match="not allowed in the web app"):
            check_app_api_root(root)
    monkeypatch.setenv("MARSVIZ_APP_API_ROOTS", "https://mirror.example/api, http://127.0.0.1:9000")
    check_app_api_root("https://mirror.example/")
    check_app_api_root("http://127.0.0.1:9000/v2")
    for root in ["http://mirror.example/", "https://mirror.example:8443/", "http://127.0.0.1:9001/"]:
        with pytest.raises(SourceError, match="not allowed in the web app"):
            check_app_api_root(root)


def _closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


SECRET_CASES = ["policy-scheme", "policy-refused", "link-local", "app-root", "http-500", "truncated", "html",
                "json-404", "json-malformed", "unreachable", "deadline", "redirect-refused", "scrape-source-error",
                "cli-source-error"]


@pytest.mark.parametrize("case", SECRET_CASES)
def test_a_password_in_an_api_root_never_appears_in_a_message(tmp_path, monkeypatch, capsys, case):
    from marsviz.fetch import check_app_api_root
    from marsviz.scrape import run_scrape
    from marsviz.sources import Query, make_source

    with NasaServer(trickle_interval=0.5) as server:
        root = server.root.replace("http://", "http://user:secret@")
        session = make_session(root, timeout=2, retries=0, backoff=0, rate=0, deadline=1, json_deadline=1)
        image = root + "/image/a.jpg"
        gone = f"http://user:secret@127.0.0.1:{_closed_port()}"
        server.routes["/rss/api/"] = {"not": "a feed"}
        actions = {
            "policy-scheme": lambda: HostPolicy("ftp://user:secret@127.0.0.1/"),
            "policy-refused": lambda: session.policy.check("http://user:secret@10.0.0.1/x.jpg"),
            "link-local": lambda: HostPolicy("http://user:secret@169.254.169.254/"),
            "app-root": lambda: check_app_api_root(root),
            "http-500": lambda: (server.fail_next("/image/a.jpg", "500"), session.download(image, tmp_path)),
            "truncated": lambda: (server.fail_next("/image/a.jpg", "truncate"), session.download(image, tmp_path)),
            "html": lambda: (server.fail_next("/image/a.jpg", "html"), session.download(image, tmp_path)),
            "json-404": lambda: session.get_json(root + "/nothing/here"),
            "json-malformed": lambda: (server.fail_next("/s", "malformed"), session.get_json(root + "/s")),
            "unreachable": lambda: make_session(gone, retries=0).get_json(gone + "/search"),
            "deadline": lambda: (server.fail_next("/image/a.jpg", "trickle"), session.download(image, tmp_path)),
            "redirect-refused": lambda: (setattr(server, "redirect_to", "http://user:secret@10.0.0.1/x.jpg"),
                                         server.fail_next("/image/a.jpg", "redirect"),
                                         session.download(image, tmp_path)),
        }
        if case == "scrape-source-error":
            report = run_scrape(Catalog(tmp_path / "home"), make_source("mars2020", session, Query(), api_root=root),
                                session)
            message = report.error
        elif case == "cli-source-error":
            from marsviz.cli import main

            monkeypatch.setenv("MARSVIZ_HTTP_RATE", "0")
            assert main(["--home", str(tmp_path / "home"), "scrape", "mars2020", "--api-root", root]) == 1
            captured = capsys.readouterr()
            message = captured.out + captured.err
        else:
            with pytest.raises(SourceError) as caught:
                actions[case]()
            message = str(caught.value)
    assert message and "secret" not in message, message
    assert "127.0.0.1" in message or "10.0.0.1" in message or "169.254.169.254" in message, message

"""Read-only mode in the real app: a crafted upload to the server, and what Chromium shows.

Streamlit's upload endpoint takes a file for any session that holds the XSRF token, whatever widgets
the page drew; the script reads it only if a rerun names it as the value of a file uploader. The
attack here does both over the app's own protocol (the WebSocket and the upload route, with the
token from the cookie, as the browser sends them). Against a writable server it adds the image, which
shows the attack is real; against a read-only one nothing in the data folder changes.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest
import requests
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.sync.client import connect

from browser import CHROMIUM, app_server, chromium, wait_for_app
from hostile.corpus import bands, encode
from marsviz.catalog import Catalog
from marsviz.samples import load_samples_subset

SAMPLES = ["mpf_imp_i1246925713_gray.png", "mro_hirise_crater_ESP_013024_2265_RED-0011.jpg"]
EVIL = encode(bands("RGB", (96, 64), (250, 20, 20), (20, 250, 20)), "PNG")


class StreamlitClient:
    """Talks to a running app as its browser page does: the XSRF cookie, the WebSocket, the upload route."""

    def __init__(self, url: str):
        self.url = url
        self.http = requests.Session()
        self.http.get(f"{url}/_stcore/health", timeout=10)  # sets the XSRF cookie, as for the page
        self.xsrf = self.http.cookies.get("_streamlit_xsrf")
        assert self.xsrf, "the server set no XSRF cookie"
        self.session_id = ""

    def __enter__(self) -> "StreamlitClient":
        self.socket = connect(self.url.replace("http", "ws", 1) + "/_stcore/stream", max_size=None,
                              subprotocols=["streamlit", self.xsrf],
                              additional_headers={"Cookie": f"_streamlit_xsrf={self.xsrf}", "Origin": self.url}
                              ).__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.socket.close()

    def rerun(self, page_name: str, page_hash: str = "", widgets: tuple[WidgetState, ...] = ()) -> dict:
        """Ask for a run of `page_name`; return what it drew: pages, page hash, uploader id, alerts."""
        message = BackMsg()
        message.rerun_script.page_name = page_name
        message.rerun_script.page_script_hash = page_hash
        message.rerun_script.widget_states.widgets.extend(widgets)
        self.socket.send(message.SerializeToString())
        seen = {"alerts": [], "uploader": None}
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            forward = ForwardMsg()
            forward.ParseFromString(self.socket.recv(timeout=120))
            kind = forward.WhichOneof("type")
            if kind == "new_session":
                self.session_id = forward.new_session.initialize.session_id
            elif kind == "navigation":
                seen["pages"] = {p.url_pathname: p.page_script_hash for p in forward.navigation.app_pages}
                seen["page_hash"] = forward.navigation.page_script_hash
            elif kind == "delta" and forward.delta.WhichOneof("type") == "new_element":
                element = forward.delta.new_element
                if element.WhichOneof("type") == "file_uploader":
                    seen["uploader"] = element.file_uploader.id
                elif element.WhichOneof("type") == "alert":
                    seen["alerts"].append(element.alert.body)
            elif kind == "script_finished":
                return seen
        raise TimeoutError("the run did not finish")

    def upload(self, name: str, data: bytes) -> tuple[int, WidgetState]:
        """PUT a file to this session's upload route; return the status and the widget value naming it."""
        file_id = str(uuid.uuid4())
        route = f"/_stcore/upload_file/{self.session_id}/{file_id}"
        answer = self.http.put(self.url + route, files={"file": (name, data, "image/png")}, timeout=30,
                               headers={"X-Xsrftoken": self.xsrf, "Origin": self.url})
        value = WidgetState()
        info = value.file_uploader_state_value.uploaded_file_info.add()
        info.name, info.size, info.file_id = name, len(data), file_id
        info.file_urls.upload_url = info.file_urls.delete_url = route
        return answer.status_code, value


def crafted_upload(url: str, target: tuple[str, str] | None = None) -> dict:
    """Open the Upload page, PUT a file and rerun naming it as the uploader's value.

    `target` is (upload page hash, uploader widget id); by default those the server itself drew.
    """
    with StreamlitClient(url) as client:
        first = client.rerun("upload")
        page_hash, uploader = target or (first["pages"]["upload"], first["uploader"])
        status, value = client.upload("evil.png", EVIL)
        value.id = uploader
        second = client.rerun("upload", page_hash, (value,))
    return {"first": first, "second": second, "status": status, "target": (page_hash, uploader)}


def stored_files(home: Path) -> set[str]:
    """Every file in the data folder but SQLite's own (-wal, -shm) and the server log."""
    return {p.relative_to(home).as_posix() for p in home.rglob("*")
            if p.is_file() and not p.name.startswith("catalog.sqlite") and p.name != "streamlit.log"}


def stocked(home: Path) -> Path:
    load_samples_subset(Catalog(home), SAMPLES)
    return home


@pytest.fixture(scope="module")
def writable_attack(tmp_path_factory):
    """The crafted upload against a normal server: (result, images before, images after)."""
    home = stocked(tmp_path_factory.mktemp("writable-home"))
    before = Catalog(home).count()
    with app_server(home) as url:
        result = crafted_upload(url)
    return result, before, Catalog(home).count()


def test_the_crafted_upload_adds_an_image_to_a_writable_server(writable_attack):
    result, before, after = writable_attack
    assert result["status"] == 204 and result["first"]["uploader"]
    assert after == before + 1


def test_a_crafted_upload_to_a_read_only_server_changes_nothing(writable_attack, tmp_path, monkeypatch):
    home = stocked(tmp_path / "home")
    catalog = Catalog(home)
    before = (catalog.count(), catalog.revision(), stored_files(home))
    monkeypatch.setenv("MARSVIZ_READ_ONLY", "1")
    with app_server(home) as url:
        result = crafted_upload(url, target=writable_attack[0]["target"])
        assert "upload" not in result["first"]["pages"] and result["first"]["uploader"] is None
        assert result["status"] == 204  # Streamlit keeps the file in memory; the app never reads it
        assert result["second"]["uploader"] is None
    assert (catalog.count(), catalog.revision(), stored_files(home)) == before


@pytest.mark.browser
def test_chromium_shows_no_upload_or_scrape_entry_in_read_only_mode(tmp_path, monkeypatch):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    home = stocked(tmp_path / "home")
    image_id, name = Catalog(home).frame()[["id", "name"]].iloc[1]
    monkeypatch.setenv("MARSVIZ_READ_ONLY", "1")
    with app_server(home) as url, chromium() as browser:
        page = browser.new_page(viewport={"width": 1500, "height": 1000})
        page.goto(url)
        wait_for_app(page)
        entries = page.locator("[data-testid='stSidebarNav'] a").all_inner_texts()
        assert [e.strip().splitlines()[-1] for e in entries] == ["Ranking", "Explore", "Map", "Method"], entries
        assert page.get_by_text("Read-only deployment").count() == 1
        page.goto(f"{url}/explore?image={image_id}")  # deep links still work
        wait_for_app(page)
        assert page.locator("[data-testid='stMarkdownContainer'] h4").first.inner_text(timeout=30000) == name
        page.goto(f"{url}/upload")
        wait_for_app(page)
        assert page.locator("input[type='file']").count() == 0
        assert page.locator("[data-testid='stException']").count() == 0

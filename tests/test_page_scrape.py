"""The Scrape page (Streamlit AppTest) against the local NASA server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import streamlit as st

from marsviz.catalog import Catalog
from nasa_server import FIXTURES, NasaServer

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "app_pages" / "scrape.py"
M20_PAGES = {0: "raw-feeds-mars2020-page0-RECONSTRUCTED.json", 1: "raw-feeds-mars2020-page1-RECONSTRUCTED.json"}


@pytest.fixture
def server(monkeypatch):
    with NasaServer() as running:
        running.routes["/rss/api/"] = NasaServer.pages("page", M20_PAGES)
        monkeypatch.setenv("MARSVIZ_APP_API_ROOTS", running.root)  # the operator lets visitors use it
        yield running


@pytest.fixture
def page(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    home = tmp_path / "home"
    monkeypatch.setenv("MARSVIZ_HOME", str(home))
    for key, value in {"MARSVIZ_HTTP_RATE": "0", "MARSVIZ_HTTP_BACKOFF": "0", "MARSVIZ_HTTP_TIMEOUT": "2",
                       "MARSVIZ_HTTP_RETRIES": "0"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(ROOT)
    monkeypatch.syspath_prepend(str(ROOT))
    st.cache_resource.clear()  # the page's Catalog is cached per process; this test has its own folder
    app = AppTest.from_file(str(PAGE), default_timeout=60)
    app.run()
    assert not app.exception
    yield app, home
    job = app.session_state["scrape_job"] if "scrape_job" in app.session_state else None
    if job is not None:
        job.cancel()
        job.wait(30)
    st.cache_resource.clear()


def start(app, source, api_root, **fields):
    app.selectbox(key="scrape_source").set_value(source)
    app.run()  # the form shows the fields of the chosen source
    app.text_input(key="scrape_api_root").set_value(api_root)
    numbers = {"scrape_sol_min", "scrape_sol_max", "scrape_year_start", "scrape_year_end", "scrape_limit"}
    for key, value in fields.items():
        widget = app.number_input(key=key) if key in numbers else app.text_input(key=key)
        widget.set_value(value)
    app.button[0].click()  # the form's submit button
    app.run()
    assert not app.exception


def finish(app):
    job = app.session_state["scrape_job"]
    assert job.wait(60)
    app.run()
    app.run()
    assert not app.exception
    return job.snapshot()


def texts(app):
    return [t.value for t in app.text]


def test_scrape_from_the_page_adds_images_and_links_them(page, server):
    app, home = page
    start(app, "mars2020", server.root, scrape_cameras="MCZ_LEFT, NAVCAM_LEFT")
    report = finish(app)
    assert len(report.added) == 2 and report.ok
    assert any(text.startswith("mars2020: 2 added") for text in texts(app))
    (table,) = app.dataframe
    assert sorted(table.value["open"]) == sorted(f"./?image={i}" for i, _ in report.added)
    assert Catalog(home).count() == 2
    assert server.log[0][1]["search"] == ["|MCZ_LEFT|NAVCAM_LEFT"]


def test_service_garbage_is_shown_as_text(page, server):
    app, _ = page
    server.fail_next("/rss/api/", "html")
    start(app, "mars2020", server.root)
    report = finish(app)
    assert "HTML page" in report.error and report.done == 0
    assert len([text for text in texts(app) if "HTML page" in text]) == 1  # said once, not in each line
    (error,) = [e.value for e in app.error]
    assert error.startswith("Nothing was fetched") and "again" not in error  # no talk of resuming nothing


def test_bad_option_is_an_error_not_a_traceback(page, server):
    app, _ = page
    start(app, "nasa-images", server.root, scrape_year_start=2020, scrape_year_end=2010)
    assert [e.value for e in app.error] == ["The scrape could not start:"]
    assert any("year range 2020..2010 is empty" in t.value for t in app.text)
    assert "scrape_job" not in app.session_state


@pytest.mark.parametrize("source, shown, hidden", [
    ("nasa-images", {"scrape_text", "scrape_year_start"}, {"scrape_sol_min", "scrape_cameras", "scrape_target"}),
    ("msl", {"scrape_sol_min", "scrape_cameras"}, {"scrape_text", "scrape_year_start", "scrape_size"}),
    ("pds-atlas", {"scrape_sol_min", "scrape_target"}, {"scrape_text", "scrape_cameras"}),
    ("pds-atlas4", {"scrape_sol_min", "scrape_target", "scrape_size"}, {"scrape_text", "scrape_cameras"}),
])
def test_the_form_shows_only_the_chosen_sources_fields(page, source, shown, hidden):
    app, _ = page
    app.selectbox(key="scrape_source").set_value(source)
    app.run()
    keys = {w.key for kind in (app.text_input, app.number_input, app.selectbox) for w in kind}
    assert shown <= keys and not hidden & keys


def test_atlas_images_whose_label_is_unreadable_are_listed(page, server):
    app, home = page
    search = "/api/search/atlas/_search"
    server.routes[search] = lambda body, path: (
        "pds-atlas4-search-page1-RECONSTRUCTED.json" if "search_after" in body
        else "pds-atlas4-search-page0-RECONSTRUCTED.json")
    server.routes["/api/data/atlas:pds3:mpf:csms:/mpim_0003/seq/i1246925714p.lbl::3"] = (
        b'PDS_VERSION_ID = PDS3\r\nPRODUCT_ID = "I1246925714P"\r\nOBJECT = IMAGE\r\n  CENTER_LATITUDE = 19.1\r\n'
        b"END_OBJECT = IMAGE\r\nEND\r\n")
    start(app, "pds-atlas4", server.root)
    report = finish(app)
    assert len(report.added) == 3 and report.labelled == 1
    assert "Added without their label" in [h.value for h in app.subheader]
    unlabelled = app.dataframe[-1].value
    assert sorted(unlabelled["name"]) == ["I1246925713P", "I1247098765L"]
    assert all("HTTP 404" in reason for reason in unlabelled["reason"])
    assert Catalog(home).frame().set_index("name").loc["I1246925714P", "latitude"] == 19.1


def test_cancel_from_the_page(page, server, monkeypatch):
    app, home = page
    # One download at a time, each slow: the cancel lands while later items have not started.
    monkeypatch.setenv("MARSVIZ_HTTP_CONCURRENCY", "1")
    server.image_delay = 0.5
    start(app, "mars2020", server.root)
    assert app.session_state["scrape_job"].running
    app.button(key="scrape_cancel").click()
    app.run()
    report = finish(app)
    assert report.cancelled and len(report.added) < 3 and not report.failed and not report.error
    # The download in flight, if any, is cut off, not counted as failed, and leaves no file.
    assert len(report.added) <= len(server.image_requests()) <= len(report.added) + 1
    assert Catalog(home).count() == len(report.added)
    assert not list(home.rglob("*.part"))


def test_hostile_metadata_is_shown_as_plain_text_only(page, server):
    app, home = page
    hostile = "**x**<img src=x onerror=alert(1)>[click](javascript:alert(1))"
    feed = json.loads((FIXTURES / M20_PAGES[1]).read_text())
    feed["images"][0].update(imageid=hostile, title=hostile, caption=hostile, credit=hostile)
    server.routes["/rss/api/"] = feed
    start(app, "mars2020", server.root)
    report = finish(app)
    assert [name for _, name in report.added] == [hostile]
    row = Catalog(home).get(report.added[0][0])
    assert row["title"] == row["description"] == row["credit"] == hostile  # stored verbatim, as text
    rendered = [m.value for m in app.markdown] + [e.value for e in app.error] + [w.value for w in app.warning]
    assert not [text for text in rendered if "javascript:" in text or "<img" in text]
    assert list(app.dataframe[0].value["name"]) == [hostile]


@pytest.mark.parametrize("root", ["{local}", "http://localhost:{port}/"])
def test_a_visitors_api_root_is_refused_unless_the_operator_allows_it(page, server, monkeypatch, root):
    app, home = page
    monkeypatch.delenv("MARSVIZ_APP_API_ROOTS")
    start(app, "mars2020", root.format(local=server.root, port=server.root.rsplit(":", 1)[1]))
    assert server.log == []
    assert "scrape_job" not in app.session_state
    assert app.error and any("is not allowed in the web app" in text and "MARSVIZ_APP_API_ROOTS" in text
                             for text in texts(app))


def test_an_allowed_root_is_matched_by_scheme_host_and_port(page, server, monkeypatch):
    app, _ = page
    monkeypatch.setenv("MARSVIZ_APP_API_ROOTS", f"https://mirror.example, {server.root}/")
    start(app, "mars2020", server.root + "/")
    assert finish(app).ok and server.log

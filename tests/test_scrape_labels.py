"""A scrape of the PDS Imaging Atlas IV end to end, with each product's label: local server -> real HTTP ->
browse image and label -> pipeline -> catalog, and the command line's contract on the result."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image

from archive_files import pds3_label, placed_product, terrain
from marsviz.catalog import Catalog
from marsviz.cli import main
from marsviz.fetch import make_session
from marsviz.scrape import run_scrape
from marsviz.sources import Query, make_source
from marsviz.sources.pds_atlas4 import SEARCH_PATH
from nasa_server import NasaServer

PAGES = ("pds-atlas4-search-page0-RECONSTRUCTED.json", "pds-atlas4-search-page1-RECONSTRUCTED.json")
DATA = "/api/data/atlas:pds3:mpf:csms:"
#: The first product's label is attached to it: the product is larger than what is read of it.
ATTACHED = f"{DATA}/mpim_0003/seq/i1246925713p.img"
#: The second product is in the Atlas's third release: its files are asked for in that release.
DETACHED = f"{DATA}/mpim_0003/seq/i1246925714p.lbl::3"
MISSING = f"{DATA}/mpim_0004/seq/i1247098765l.img"
FAST = {"MARSVIZ_HTTP_RATE": "0", "MARSVIZ_HTTP_BACKOFF": "0", "MARSVIZ_HTTP_TIMEOUT": "2",
        "MARSVIZ_HTTP_RETRIES": "1"}


def browse_jpeg(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray((terrain(height, width) // 4).astype(np.uint8)).save(buffer, "JPEG")
    return buffer.getvalue()


@pytest.fixture
def server():
    with NasaServer() as running:
        running.routes[SEARCH_PATH] = lambda body, path: PAGES[1] if "search_after" in body else PAGES[0]
        # A 64 x 48 px product at 0.5 m/px, and its browse image at half size: 1 m/px.
        running.routes[ATTACHED] = placed_product(19.13, 326.78) + bytes(1_000_000)
        running.routes[ATTACHED.replace("/seq/", "/browse/").replace(".img", ".jpg")] = browse_jpeg(32, 24)
        running.routes[DETACHED] = pds3_label(terrain().astype(np.uint16), '"I1246925714P.IMG"',
                                              record_bytes=128).encode()
        yield running


def scrape(server, home):
    session = make_session(server.root, timeout=2.0, retries=1, backoff=0.0, rate=0)
    source = make_source("pds-atlas4", session, Query(), api_root=server.root)
    return run_scrape(Catalog(home), source, session)


def test_each_image_gets_what_its_label_says(server, tmp_path):
    report = scrape(server, tmp_path / "home")
    assert len(report.added) == 3 and not report.failed and not report.rejected
    assert report.labelled == 2
    [(name, reason)] = report.unlabelled
    assert name == "I1247098765L" and "HTTP 404" in reason
    rows = Catalog(tmp_path / "home").frame().set_index("source_id")
    attached = rows.loc[ATTACHED.replace("/api/data/", "")]
    assert (attached["latitude"], attached["longitude"]) == (19.13, 326.78)
    assert attached["scale_m_per_px"] == 1.0  # the browse image's scale, not the product's 0.5 m/px
    assert attached["product_id"] == "ESP_011386_2065_RED"  # the label's own id, as it says it
    # What the source said is kept (mpf, shown by its one name); the label (here saying MRO) fills only the rest.
    assert attached["mission"] == "Mars Pathfinder"
    detached = rows.loc[DETACHED.replace("/api/data/", "").replace(".lbl::3", ".img")]
    assert detached["file_url"].endswith("/browse/i1246925714p.jpg::3")
    assert (detached["latitude"], detached["longitude"]) == (26.5, 0.5)
    assert (detached["incidence_angle"], detached["emission_angle"]) == (53.2, 4.1)
    # Its browse image (a square) is not the 64 x 48 product reduced: its scale is not known, so not stored.
    assert np.isnan(detached["scale_m_per_px"])
    missing = rows.loc[MISSING.replace("/api/data/", "")]
    assert np.isnan(missing["latitude"]) and np.isnan(missing["scale_m_per_px"])
    assert "2 with their label's metadata, 1 without (label unreadable)" in report.summary()
    # Each label read is kept with its image, as the Atlas served it: the attached one up to its END.
    catalog = Catalog(tmp_path / "home")
    kept = {name: catalog.product_label(rows.loc[key, "sha256"]) for name, key in (
        ("attached", ATTACHED.replace("/api/data/", "")), ("missing", MISSING.replace("/api/data/", "")))}
    assert kept["attached"].startswith("PDS_VERSION_ID = PDS3") and kept["attached"].rstrip().endswith("END")
    assert "CENTER_LATITUDE = 19.13" in kept["attached"] and kept["missing"] == ""


def test_a_label_that_is_not_one_loses_nothing(server, tmp_path):
    server.routes[DETACHED] = b"<html><body>maintenance</body></html>"
    report = scrape(server, tmp_path / "home")
    assert len(report.added) == 3 and report.labelled == 1
    assert dict(report.unlabelled)["I1246925714P"] == "its label: not a PDS3 or PDS4 label"


def test_a_label_that_breaks_off_is_fetched_again(server, tmp_path):
    server.fail_next(DETACHED, "reset")
    report = scrape(server, tmp_path / "home")
    assert report.labelled == 2
    assert server.requests_to(DETACHED) == 2


def test_cli_scrape_then_rank_json_has_the_label_keys(server, tmp_path, monkeypatch, capsys):
    for key, value in FAST.items():
        monkeypatch.setenv(key, value)
    home = str(tmp_path / "home")
    assert main(["--home", home, "scrape", "pds-atlas4", "--api-root", server.root]) == 0
    captured = capsys.readouterr()
    assert "3 added" in captured.out and "2 with their label's metadata" in captured.out
    assert "no label  I1247098765L" in captured.err
    assert main(["--home", home, "rank", "--format", "json"]) == 0
    ranked = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    placed = ranked["I1246925713P"]
    assert (placed["latitude"], placed["longitude"], placed["scale_m_per_px"]) == (19.13, 326.78, 1.0)
    assert (placed["mission"], placed["instrument"]) == ("Mars Pathfinder", "IMP")  # one name each
    assert ranked["I1247098765L"]["latitude"] is None

"""Rover raw-image feed clients (Perseverance, Curiosity) against replayed pages on 127.0.0.1.

The page envelopes are reconstructed from the documented schema around real recorded items; see
tests/fixtures/nasa/README.md.
"""

from __future__ import annotations

import pytest

from marsviz.errors import SourceError
from marsviz.fetch import make_session
from marsviz.sources import Query, make_source
from nasa_server import NasaServer

M20 = "/rss/api/"
MSL = "/api/v1/raw_image_items/"


@pytest.fixture
def server():
    with NasaServer() as running:
        running.routes[M20] = NasaServer.pages("page", {0: "raw-feeds-mars2020-page0-RECONSTRUCTED.json",
                                                        1: "raw-feeds-mars2020-page1-RECONSTRUCTED.json"})
        running.routes[MSL] = NasaServer.pages("page", {0: "raw-feeds-msl-page0-RECONSTRUCTED.json",
                                                        1: "raw-feeds-msl-page1-RECONSTRUCTED.json"})
        yield running


def items(server, name, **query):
    session = make_session(server.root, timeout=2.0, retries=1, backoff=0.0, rate=0)
    return list(make_source(name, session, Query(**query), api_root=server.root).items())


def queries(server, path):
    return [query for logged, query in server.log if logged == path]


def test_mars2020_pages_and_keeps_full_frames_only(server):
    found = items(server, "mars2020")
    assert [item.provenance.source_id for item in found] == [
        "ZL6_1484_0798697293_098ECM_N0730000ZCAM01022_034080J",
        "NLF_1484_0798690000_123ECM_N0730000NCAM00500_01_295J",
        "FLF_1483_0798600000_456ECM_N0730000FHAZ00200_01_295J"]
    assert [q["page"] for q in queries(server, M20)] == [["0"], ["1"]]
    assert queries(server, M20)[0]["extended"] == ["sample_type::full,"]


def test_mars2020_provenance_and_large_rendition(server):
    recorded = items(server, "mars2020")[0]
    provenance = recorded.provenance
    assert recorded.image_url == f"{server.root}/mars2020-raw-images/.../1200.jpg"
    assert (provenance.source, provenance.sol, provenance.instrument) == ("mars2020", 1484, "MCZ_LEFT")
    assert provenance.title == "Mars Perseverance Sol 1484: Left Mastcam-Z Camera"
    assert provenance.credit == "NASA/JPL-Caltech/ASU"
    assert provenance.date_taken == "2025-04-23T16:40:44.575Z"
    assert provenance.description.startswith("NASA's Mars Perseverance rover acquired")


def test_mars2020_filters_are_sent_and_applied(server):
    found = items(server, "mars2020", sol_min=1484, sol_max=1484, cameras=("NAVCAM_LEFT",))
    assert [item.provenance.instrument for item in found] == ["NAVCAM_LEFT"]
    first = queries(server, M20)[0]
    assert first["sol"] == ["1484"] and first["search"] == ["|NAVCAM_LEFT"]
    items(server, "mars2020", sol_min=1480, sol_max=1483)
    ranged = queries(server, M20)[-1]
    assert (ranged["condition_2"], ranged["condition_3"]) == (["1480:sol:gte"], ["1483:sol:lte"])


def test_mars2020_partial_frames_on_request(server):
    found = items(server, "mars2020", include_partial=True)
    assert len(found) == 4
    assert "extended" not in queries(server, M20)[0]


def test_msl_pages_while_more_and_skips_thumbnails_and_subframes(server):
    found = items(server, "msl")
    assert [item.provenance.source_id for item in found] == ["0001MR0000000010100001C00_DXXX",
                                                             "FLA_397502188EDR_F0010000AUT_04096M_"]
    first = queries(server, MSL)[0]
    assert first["condition_1"] == ["msl:mission"] and first["page"] == ["0"]
    assert len(queries(server, MSL)) == 2


def test_msl_provenance(server):
    provenance = items(server, "msl")[0].provenance
    assert provenance.source == "msl" and provenance.instrument == "MAST_RIGHT" and provenance.sol == 1
    assert provenance.page_url == "https://mars.nasa.gov/raw_images/14267"
    assert provenance.credit == "NASA/JPL-Caltech/MSSS"
    assert provenance.date_taken == "2012-08-07T04:52:33.000Z"
    # The recorded item points at the old mars.jpl.nasa.gov host; the mirror serves it.
    assert provenance.file_url == (f"{server.root}/msl-raw-images/msss/00001/mcam/"
                                   "0001MR0000000010100001C00_DXXX.jpg")


def test_msl_sol_and_camera_conditions(server):
    found = items(server, "msl", sol_min=1, sol_max=1, cameras=("fhaz_left_a", "NAV_LEFT_A"))
    assert [item.provenance.instrument for item in found] == ["FHAZ_LEFT_A"]
    first = queries(server, MSL)[0]
    assert first["condition_2"] == ["1:sol:in"]
    assert first["condition_3"] == ["FHAZ_LEFT_A,NAV_LEFT_A:instrument:in"]


def test_feed_answer_of_the_wrong_shape_is_refused(server):
    server.routes[M20] = "images-api-3-search-empty.json"
    with pytest.raises(SourceError, match="'images'"):
        items(server, "mars2020")


def test_html_instead_of_json_is_a_clear_error(server):
    server.fail_next(MSL, "html")
    with pytest.raises(SourceError, match="HTML page"):
        items(server, "msl")


def test_empty_sol_range_is_refused():
    with pytest.raises(SourceError, match="empty"):
        Query(sol_min=5, sol_max=2)


def test_msl_has_no_sizes():
    with pytest.raises(SourceError, match="size"):
        make_source("msl", make_session(), Query(size="large"))

"""PDS Imaging Atlas III (Solr) client against reconstructed responses replayed on 127.0.0.1."""

from __future__ import annotations

import pytest

from marsviz.errors import SourceError
from marsviz.fetch import make_session
from marsviz.sources import Query, make_source
from marsviz.sources.pds_atlas import solr_phrase
from nasa_server import NasaServer

SEARCH = "/solr/pds_archives/search"


@pytest.fixture
def server():
    with NasaServer() as running:
        running.routes[SEARCH] = NasaServer.pages("start", {0: "pds-atlas3-solr-search-page0-RECONSTRUCTED.json",
                                                            3: "pds-atlas3-solr-search-page1-RECONSTRUCTED.json"})
        yield running


def items(server, **query):
    session = make_session(server.root, timeout=2.0, retries=1, backoff=0.0, rate=0)
    return list(make_source("pds-atlas", session, Query(**query), api_root=server.root).items())


def test_pages_by_start_and_reads_scalar_or_list_fields(server):
    found = items(server)
    assert [item.provenance.source_id for item in found] == [
        "I1246925713P", "I1246925714P", "I1247012345R", "I1247098765L", "I1247098766L"]
    assert [q["start"] for p, q in server.log if p == SEARCH] == [["0"], ["3"]]
    assert {item.provenance.instrument for item in found} == {"imp"}


def test_seed_filters_are_sent(server):
    items(server)
    query = server.log[0][1]
    assert query["q"] == ["*:*"] and query["wt"] == ["json"]
    assert query["fq"] == ['TARGET_NAME:"mars"', 'ATLAS_SPACECRAFT_NAME:"carl sagan memorial station"',
                           "-ATLAS_THUMBNAIL_URL:brwsnotavail.jpg"]


def test_extra_filters_are_quoted(server):
    items(server, mission="Mars Pathfinder", instrument="IMP", sol_min=2, sol_max=3)
    fq = server.log[0][1]["fq"]
    assert 'ATLAS_MISSION_NAME:"mars pathfinder"' in fq
    assert 'ATLAS_INSTRUMENT_NAME:"imp"' in fq
    assert "PLANET_DAY_NUMBER:[2 TO 3]" in fq


def test_browse_image_and_provenance(server):
    item = items(server)[0]
    provenance = item.provenance
    assert item.image_url == f"{server.root}/data/mpf/mpim_0003/browse/i1246925713p.jpg"
    assert provenance.sol == 1 and provenance.mission == "mars pathfinder"
    assert provenance.date_taken == "1997-07-05T03:29:45.000Z"
    assert "carl sagan memorial station" in provenance.description
    assert item.label_url == f"{server.root}/data/mpf/mpim_0003/i1246925713p.lbl" == provenance.page_url


def test_solr_error_is_reported(server):
    server.routes[SEARCH] = (400, "pds-atlas3-solr-error-RECONSTRUCTED.json")
    with pytest.raises(SourceError, match="undefined field FOO"):
        items(server)


def test_solr_phrase_escapes_quotes():
    assert solr_phrase(' Carl "Sagan" \\ ') == '"carl \\"sagan\\" \\\\"'


def test_text_query_is_refused():
    with pytest.raises(SourceError, match="text"):
        make_source("pds-atlas", make_session(), Query(text="crater"))

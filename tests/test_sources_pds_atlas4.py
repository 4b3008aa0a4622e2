"""PDS Imaging Atlas IV (Elasticsearch) client: NASA's recorded example answer and reconstructed pages,
replayed on 127.0.0.1."""

from __future__ import annotations

import json

import pytest

from marsviz.errors import SourceError
from marsviz.fetch import make_session
from marsviz.sources import Query, make_source
from marsviz.sources.pds_atlas4 import SEARCH_PATH
from nasa_server import FIXTURES, NasaServer

RECORDED = "pds-atlas4-3-related-files-lookup.json"
PAGES = ("pds-atlas4-search-page0-RECONSTRUCTED.json", "pds-atlas4-search-page1-RECONSTRUCTED.json")
CACHECAM = ("atlas:pds4:mars_2020:perseverance:/mars2020_cachecam_ops_calibrated/{}/sol/00088/ids/rdr/cachecam/"
            "CCF_0088_0674757853_190IDM_N0040048CACH00100_0A10LLJ05.{}")


def by_search_after(query, path):
    """The reconstructed pages: the second is asked for after the first's last hit."""
    return PAGES[1] if "search_after" in query else PAGES[0]


@pytest.fixture
def server():
    with NasaServer() as running:
        running.routes[SEARCH_PATH] = by_search_after
        yield running


def items(server, **query):
    session = make_session(server.root, timeout=2.0, retries=1, backoff=0.0, rate=0)
    return list(make_source("pds-atlas4", session, Query(**query), api_root=server.root).items())


def searches(server) -> list[dict]:
    return [body for path, body in server.log if path == SEARCH_PATH]


def test_recorded_answer_gives_the_browse_image_and_the_label(server):
    server.routes[SEARCH_PATH] = RECORDED
    [item] = items(server)
    assert item.image_url == f"{server.root}/api/data/{CACHECAM.format('browse', 'png')}"
    assert item.label_url == f"{server.root}/api/data/{CACHECAM.format('data', 'xml')}"
    provenance = item.provenance
    assert provenance.source_id == CACHECAM.format("data", "IMG")
    assert provenance.name == "CCF_0088_0674757853_190IDM_N0040048CACH00100_0A10LLJ05.IMG"
    # The hit has no gather.common: mission and spacecraft come from the codes in its URI.
    assert provenance.mission == "mars_2020" and "spacecraft: perseverance" in provenance.description
    assert provenance.page_url == item.label_url


def test_pages_after_the_last_hit_and_skips_hits_without_a_browse_image(server):
    found = items(server)
    assert [item.provenance.name for item in found] == ["I1246925713P", "I1246925714P", "I1247098765L"]
    first, second = searches(server)
    assert first["from"] == 0 and "search_after" not in first
    assert second["search_after"] == [868073386000, "atlas:pds3:mpf:csms:/mpim_0003/seq/i1246925714p.img"]
    assert "from" not in second
    assert [item.provenance.sol for item in found] == [None, None, None]
    assert found[0].provenance.date_taken == "1997-07-05T03:29:45.000Z"
    assert found[0].provenance.instrument == "imp"
    # A product of a later release: its files are asked for in that release, as the Atlas's own viewer does.
    assert found[1].image_url.endswith("/browse/i1246925714p.jpg::3")
    assert found[1].label_url.endswith("/seq/i1246925714p.lbl::3")
    assert found[1].provenance.source_id == "atlas:pds3:mpf:csms:/mpim_0003/seq/i1246925714p.img"


def test_pages_by_offset_when_hits_have_no_sort_values(server):
    pages = {0: "pds-atlas4-search-page0-RECONSTRUCTED.json", 2: "pds-atlas4-search-page1-RECONSTRUCTED.json"}

    def by_offset(query, path):
        page = json.loads((FIXTURES / pages[query["from"]]).read_text())
        for hit in page["hits"]["hits"]:
            del hit["sort"]
        return page

    server.routes[SEARCH_PATH] = by_offset
    assert len(items(server)) == 3
    assert [body["from"] for body in searches(server)] == [0, 2]


def test_seed_query_and_filters_are_sent(server):
    items(server)
    body = searches(server)[0]
    filters = body["query"]["bool"]["filter"]
    assert {"exists": {"field": "gather.pds_archive.related.browse.uri"}} in filters
    assert {"terms": {"gather.common.spacecraft": ["CSMS", "Csms", "csms"]}} in filters
    assert {"terms": {"gather.common.target": ["MARS", "Mars", "mars"]}} in filters
    assert body["track_total_hits"] is True and body["size"] >= 1
    assert "gather.pds_archive.related.label.uri" in body["_source"]


def test_mission_instrument_and_sols_filter(server):
    items(server, mission="Mars 2020", spacecraft="perseverance", instrument="cachecam", sol_min=80, sol_max=90)
    filters = searches(server)[0]["query"]["bool"]["filter"]
    assert {"terms": {"gather.common.mission": ["MARS_2020", "Mars_2020", "mars_2020"]}} in filters
    assert {"terms": {"gather.common.instrument": ["CACHECAM", "Cachecam", "cachecam"]}} in filters
    assert {"range": {"gather.landed_missions.planet_day_number": {"gte": 80, "lte": 90}}} in filters


def test_a_rendition_asks_the_atlas_for_its_webp_copy(server):
    server.routes[SEARCH_PATH] = RECORDED
    [item] = items(server, size="medium")
    assert item.image_url.endswith(".png:md")
    [item] = items(server, size="full")
    assert item.image_url.endswith(".png")
    server.routes[SEARCH_PATH] = PAGES[0]
    assert items(server, size="small")[1].image_url.endswith(".jpg::3:sm")


def test_an_elasticsearch_error_is_reported_with_its_cause(server):
    server.routes[SEARCH_PATH] = (400, "pds-atlas4-error-RECONSTRUCTED.json")
    with pytest.raises(SourceError, match="No mapping found for \\[foo\\]"):
        items(server)


def test_a_refusal_of_the_network_says_what_to_try(server):
    server.routes[SEARCH_PATH] = (403, {"message": "Forbidden"})
    with pytest.raises(SourceError, match="HTTP 403: Forbidden. The PDS Imaging Node refuses some networks"):
        items(server)


@pytest.mark.parametrize("answer", [{"hits": []}, {"took": 3}, [1, 2]])
def test_an_answer_that_is_not_a_search_result_is_refused(server, answer):
    server.routes[SEARCH_PATH] = answer
    with pytest.raises(SourceError, match="not an Elasticsearch answer"):
        items(server)


def test_filters_it_does_not_have_and_unknown_sizes_are_refused():
    with pytest.raises(SourceError, match="text"):
        make_source("pds-atlas4", make_session(), Query(text="crater"))
    with pytest.raises(SourceError, match="cameras"):
        make_source("pds-atlas4", make_session(), Query(cameras=("MCZ_LEFT",)))
    with pytest.raises(SourceError, match="size must be one of small, medium, large, full"):
        make_source("pds-atlas4", make_session(), Query(size="huge"))

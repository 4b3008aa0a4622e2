"""NASA Image and Video Library client against recorded responses replayed on 127.0.0.1."""

from __future__ import annotations

import json

import pytest

from marsviz.errors import SourceError
from marsviz.fetch import make_session
from marsviz.sources import Query, make_source
from nasa_server import FIXTURES, NasaServer

PAGE1 = "images-api-10-search-q-mars-page1-100-items.json"
LAST = "images-api-2-search-last-page-no-links.json"
V11 = "images-api-11-search-v1.1-links-with-sizes.json"


def manifest_for(query, path):
    """The recorded /asset manifest, re-keyed to the requested id (one manifest was recorded)."""
    nasa_id = path.rsplit("/", 1)[1]
    text = (FIXTURES / "images-api-5-asset-manifest.json").read_text()
    return json.loads(text.replace("as11-40-5874", nasa_id))


@pytest.fixture
def server():
    with NasaServer() as running:
        running.routes["/search"] = NasaServer.pages("page", {1: PAGE1, 2: LAST})
        running.routes["/asset/*"] = manifest_for
        yield running


def source(server, **query):
    session = make_session(server.root, timeout=2.0, retries=1, backoff=0.0, rate=0)
    return make_source("nasa-images", session, Query(**query), api_root=server.root)


def recorded_items(name):
    return json.loads((FIXTURES / name).read_text())["collection"]["items"]


def test_follows_next_link_and_keeps_images_only(server):
    items = list(source(server).items())
    expected = [i["data"][0]["nasa_id"] for name in (PAGE1, LAST) for i in recorded_items(name)
                if i["data"][0]["media_type"] == "image"]
    assert [item.provenance.source_id for item in items] == expected
    assert len(expected) == 99
    first, second = server.log[0][1], [q for p, q in server.log if p == "/search"][1]
    assert first["media_type"] == ["image"] and first["q"] == ["mars"]
    assert second["page"] == ["2"]


def test_v10_items_take_medium_from_the_manifest_only_when_asked(server):
    items = {item.provenance.source_id: item for item in source(server).items()}
    assert not [path for path, _ in server.log if path.startswith("/asset/")]
    item = items["PIA02818"]
    assert item.url() == f"{server.root}/image/PIA02818/PIA02818~medium.jpg"
    assert [path for path, _ in server.log if path.startswith("/asset/")] == ["/asset/PIA02818"]
    provenance = item.provenance
    assert provenance.source == "nasa-images" and provenance.name == "PIA02818"
    assert provenance.title == "Mars Thermal Inertia"
    assert provenance.date_taken.startswith("2001-01-17")
    assert provenance.page_url == "https://images.nasa.gov/details/PIA02818"


def test_ids_with_spaces_are_url_encoded_in_manifest_requests(server):
    for item in source(server).items():
        if item.provenance.source_id.startswith("PIA2283"):
            item.url()
    assets = [path for path, _ in server.log if path.startswith("/asset/")]
    assert "/asset/PIA22832_MarCO%20Image_Away%20from%20Mars%2C%20With%20Sunburst" in assets


def test_v11_links_are_picked_by_rel_and_size_without_a_manifest(server):
    server.routes["/search"] = V11
    for size, suffix in [("medium", "~medium.jpg"), ("small", "~small.jpg"), ("full", "~orig.jpg")]:
        (item,) = source(server, size=size).items()
        assert item.image_url.endswith(suffix) and item.provenance.file_url == item.image_url
    assert not [path for path, _ in server.log if path.startswith("/asset/")]


def test_missing_manifest_falls_back_to_the_preview(server):
    server.routes["/search"] = LAST
    server.routes["/asset/*"] = (404, "images-api-6-asset-not-found.json")
    urls = [item.url() for item in source(server).items()]
    assert urls and all(url.endswith("~thumb.jpg") for url in urls)


def test_query_and_years_are_sent(server):
    list(source(server, text="gale crater", year_start=2012, year_end=2014).items())
    query = server.log[0][1]
    assert query["q"] == ["gale crater"]
    assert (query["year_start"], query["year_end"]) == (["2012"], ["2014"])


def test_empty_search_yields_nothing(server):
    server.routes["/search"] = "images-api-3-search-empty.json"
    assert list(source(server).items()) == []


def test_service_error_reason_is_reported(server):
    server.routes["/search"] = (400, "images-api-4-search-error-400.json")
    with pytest.raises(SourceError, match="Expected 'q'"):
        list(source(server).items())


def test_answer_without_collection_is_refused(server):
    server.routes["/search"] = "raw-feeds-1-msl-raw_image_items-single-item.json"
    with pytest.raises(SourceError, match="collection"):
        list(source(server).items())


def test_garbage_on_the_second_page_keeps_the_first(server):
    server.fail_next("/search", "500")  # retried: the first page still arrives
    iterator = source(server).items()
    taken = [next(iterator) for _ in range(3)]
    assert len(taken) == 3
    server.routes["/search"] = NasaServer.pages("page", {1: PAGE1})
    server.fail_next("/search", "malformed")
    with pytest.raises(SourceError, match="malformed JSON"):
        list(iterator)


def test_sol_filter_is_refused():
    with pytest.raises(SourceError, match="sol"):
        make_source("nasa-images", make_session(), Query(sol_min=3, sol_max=3))

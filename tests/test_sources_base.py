"""What every source client shares: its refusals, its description and its paging loop."""

from dataclasses import fields

import pytest

from marsviz.errors import SourceError
from marsviz.provenance import Provenance
from marsviz.sources import RENDITIONS, SOURCE_NAMES, SOURCES, Page, PagedSource, Query, SourceItem, make_source

#: A value for each Query field that counts as set.
SET = {"text": "gale", "sol_min": 1, "sol_max": 2, "cameras": ("NAV_LEFT_B",), "year_start": 2020,
       "year_end": 2021, "size": "large", "target": "mars", "mission": "mars pathfinder", "instrument": "imp",
       "spacecraft": "carl sagan memorial station", "include_partial": True}


def test_every_query_field_has_a_set_value_here():
    assert set(SET) == {f.name for f in fields(Query)}


@pytest.mark.parametrize("name", SOURCE_NAMES)
def test_a_source_takes_its_own_fields_and_refuses_every_other(name):
    cls = SOURCES[name]
    assert cls.name == name and cls.description
    make_source(name, session=None, query=Query(**{f: SET[f] for f in cls.query_fields}))
    for field in set(SET) - set(cls.query_fields):
        with pytest.raises(SourceError, match=f"{name} has no {field.replace('_', ' ')} filter"):
            make_source(name, session=None, query=Query(**{field: SET[field]}))


def test_an_unknown_source_is_a_clear_error():
    with pytest.raises(SourceError, match="unknown source 'mro'; choose one of nasa-images"):
        make_source("mro", session=None, query=Query())


class _Listing(PagedSource):
    """A source over in-memory pages: page n holds PAGES[n]; odd numbers are items to skip."""

    name, description, query_fields, default_root = "test", "a test listing", (), "http://127.0.0.1"
    PAGES = [[2, 3, 4], [6], [], [8]]

    def first_page(self):
        return 0

    def page(self, number):
        self.fetched.append(number)
        following = number + 1 if number + 1 < len(self.PAGES) else None
        return Page(self.PAGES[number], 10 + number, following)

    def item(self, raw):
        return None if raw % 2 else SourceItem(Provenance(source=self.name, name=str(raw)), f"http://x/{raw}")


def test_the_paging_loop_follows_pages_skips_items_and_stops_at_an_empty_page():
    listing = _Listing(None, Query())
    listing.fetched = []
    assert listing.total is None
    assert [item.provenance.name for item in listing.items()] == ["2", "4", "6"]
    assert listing.fetched == [0, 1, 2]  # page 3 is never asked for: page 2 came back empty
    assert listing.total == 12
    assert listing.api_root == "http://127.0.0.1"


def test_every_source_that_takes_a_size_knows_each_rendition_and_no_other():
    from marsviz.sources.nasa_images import PREFERENCE
    from marsviz.sources.pds_atlas4 import SIZE_SUFFIXES
    from marsviz.sources.raw_feeds import MARS2020_PREFERENCE

    assert tuple(PREFERENCE) == tuple(MARS2020_PREFERENCE) == tuple(SIZE_SUFFIXES) == RENDITIONS
    takers = sorted(name for name, cls in SOURCES.items() if "size" in cls.query_fields)
    assert takers == ["mars2020", "nasa-images", "pds-atlas4"]

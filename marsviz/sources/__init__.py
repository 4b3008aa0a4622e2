"""Clients of NASA's public image services; each yields :class:`SourceItem`\\ s to scrape.

A source lists images (following the service's paging) and says where each one's file is; it never
downloads images itself.  All HTTP goes through a :class:`marsviz.fetch.NasaSession`.  The api.nasa.gov
Mars Rover Photos API was retired in 2025 and is deliberately not a source.
"""

from __future__ import annotations

from marsviz.errors import SourceError
from marsviz.sources._base import RENDITIONS, Page, PagedSource, Query, SourceItem
from marsviz.sources.nasa_images import NasaImagesSource
from marsviz.sources.pds_atlas import PdsAtlasSource
from marsviz.sources.pds_atlas4 import PdsAtlas4Source
from marsviz.sources.raw_feeds import CuriositySource, Mars2020Source

#: Every source by name, in the order the Scrape page and the command line offer them.
SOURCES: dict[str, type[PagedSource]] = {cls.name: cls for cls in (NasaImagesSource, Mars2020Source, CuriositySource,
                                                                    PdsAtlas4Source, PdsAtlasSource)}
SOURCE_NAMES = tuple(SOURCES)


def make_source(name: str, session, query: Query, api_root: str | None = None) -> PagedSource:
    """The source called `name`, set up for `query`.

    Parameters
    ----------
    name : str
        One of :data:`SOURCE_NAMES`.
    session : marsviz.fetch.NasaSession
    query : Query
    api_root : str, optional
        Base URL of the service (default: NASA's).  Tests point it at a local server.

    Raises
    ------
    SourceError
        Unknown source, or a filter the source does not have.
    """
    if name not in SOURCES:
        raise SourceError(f"unknown source {name!r}; choose one of {', '.join(SOURCE_NAMES)}")
    return SOURCES[name](session, query, api_root=api_root)


__all__ = ["SourceItem", "Query", "RENDITIONS", "Page", "PagedSource", "SOURCES", "SOURCE_NAMES", "make_source"]

"""Clients of NASA's public image services; each yields :class:`SourceItem`\\ s to scrape.

A source lists images (following the service's paging) and says where each one's file is; it never
downloads images itself.  All HTTP goes through a :class:`marsviz.fetch.NasaSession`.  The api.nasa.gov
Mars Rover Photos API was retired in 2025 and is deliberately not a source.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterator, Protocol
from urllib.parse import urlsplit, urlunsplit

from marsviz import config
from marsviz.errors import SourceError
from marsviz.provenance import Provenance


@dataclass(frozen=True)
class SourceItem:
    """One image a source offers.

    Attributes
    ----------
    provenance : Provenance
        Where it comes from (untrusted text, shown as plain text only).
    image_url : str
        The file to download; empty when it takes another request to find (see `resolve_url`).
    resolve_url : callable, optional
        Finds the file's URL (or returns None) when the listing does not say it.  Called only for items
        that are not in the catalog yet, so a re-run does not repeat those requests.
    """

    provenance: Provenance
    image_url: str = ""
    resolve_url: Callable[[], str | None] | None = field(default=None, compare=False, repr=False)

    def url(self) -> str | None:
        """The file's URL, resolving it if needed."""
        if self.image_url:
            return self.image_url
        return self.resolve_url() if self.resolve_url is not None else None


@dataclass(frozen=True)
class Query:
    """What to scrape.  Each source uses the fields that make sense for it and refuses the others.

    Attributes
    ----------
    text : str
        Free-text search (nasa-images).
    sol_min, sol_max : int or None
        Inclusive sol range (rover feeds, pds-atlas); equal for a single sol.
    cameras : tuple of str
        Camera / instrument codes, as the service names them.
    year_start, year_end : int or None
        Year range (nasa-images).
    size : str
        Preferred rendition (``small``, ``medium``, ``large``, ``full``); empty for the source's default.
    target, mission, instrument, spacecraft : str
        PDS Imaging Atlas filters; empty for the source's default.
    include_partial : bool
        Also take thumbnails and subframes (rover feeds take full frames only by default).
    """

    text: str = ""
    sol_min: int | None = None
    sol_max: int | None = None
    cameras: tuple[str, ...] = field(default_factory=tuple)
    year_start: int | None = None
    year_end: int | None = None
    size: str = ""
    target: str = ""
    mission: str = ""
    instrument: str = ""
    spacecraft: str = ""
    include_partial: bool = False

    def __post_init__(self):
        if self.sol_min is not None and self.sol_max is not None and self.sol_min > self.sol_max:
            raise SourceError(f"sol range {self.sol_min}..{self.sol_max} is empty: the minimum is above the maximum")
        if self.year_start and self.year_end and self.year_start > self.year_end:
            raise SourceError(f"year range {self.year_start}..{self.year_end} is empty")


class Source(Protocol):
    """What every source offers."""

    name: str
    total: int | None

    def items(self) -> Iterator[SourceItem]:
        ...


def page_size() -> int:
    """Results asked for per page (setting ``scrape_page_size``)."""
    return max(1, int(config.get("scrape_page_size")))


def https(url: str, api_root: str | None = None) -> str:
    """`url` with ``http`` upgraded to ``https`` for public hosts (NASA answers both, and redirects http).

    A URL on the explicit API root (a mirror or a local test server) is left as it is.
    """
    parts = urlsplit(url)
    if parts.scheme == "http" and not (api_root and url.startswith(api_root.rstrip("/") + "/")):
        return urlunsplit(("https", *parts[1:]))
    return url


def on_root(url: str, api_root: str) -> str:
    """`url`'s path and query re-based on `api_root`: paging links of a service point at its canonical host."""
    parts = urlsplit(url)
    root = urlsplit(api_root)
    return urlunsplit((root.scheme, root.netloc, parts.path, parts.query, ""))


def refuse(source: str, query: Query, *names: str) -> None:
    """Raise :class:`SourceError` if any of the `names` fields of `query` is set: the source ignores them."""
    for name in names:
        value = getattr(query, name)
        if value not in (None, "", (), False):
            raise SourceError(f"{source} has no {name.replace('_', ' ')} filter")


def text(value, limit: int = 5000) -> str:
    """Untrusted metadata as a bounded single string (lists joined, None empty)."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        value = ", ".join(str(v) for v in value if v is not None)
    return str(value).strip()[:limit]


def first(value):
    """The first element of a list, or the value itself (services send either for multi-valued fields)."""
    if isinstance(value, (list, tuple)):
        return value[0] if value else None
    return value


def as_int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


SOURCE_NAMES = ("nasa-images", "mars2020", "msl", "pds-atlas")


def make_source(name: str, session, query: Query, api_root: str | None = None) -> Source:
    """The source called `name`.

    Parameters
    ----------
    name : {"nasa-images", "mars2020", "msl", "pds-atlas"}
    session : marsviz.fetch.NasaSession
    query : Query
    api_root : str, optional
        Base URL of the service (default: NASA's).  Tests point it at a local server.

    Raises
    ------
    SourceError
        Unknown source, or a filter the source does not have.
    """
    if name == "nasa-images":
        from marsviz.sources.nasa_images import NasaImagesSource as cls
    elif name in ("mars2020", "msl"):
        from marsviz.sources import raw_feeds

        cls = raw_feeds.Mars2020Source if name == "mars2020" else raw_feeds.CuriositySource
    elif name == "pds-atlas":
        from marsviz.sources.pds_atlas import PdsAtlasSource as cls
    else:
        raise SourceError(f"unknown source {name!r}; choose one of {', '.join(SOURCE_NAMES)}")
    return cls(session, query, api_root=api_root)


__all__ = ["SourceItem", "Query", "Source", "SOURCE_NAMES", "make_source"]

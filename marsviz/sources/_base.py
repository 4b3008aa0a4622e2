"""What every source client shares: the items it yields, the query it takes, its setup and its paging loop."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Callable, ClassVar, Iterable, Iterator, NamedTuple
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
    label_url : str
        The product's PDS3 or PDS4 label, where the source offers it: the scrape reads what it says (place,
        scale, lighting) into the catalog with the image.
    """

    provenance: Provenance
    image_url: str = ""
    resolve_url: Callable[[], str | None] | None = field(default=None, compare=False, repr=False)
    label_url: str = ""

    def url(self) -> str | None:
        """The file's URL, resolving it if needed."""
        if self.image_url:
            return self.image_url
        return self.resolve_url() if self.resolve_url is not None else None


#: The renditions a query can ask for (:attr:`Query.size`); each source maps them to its own file sizes.
RENDITIONS = ("small", "medium", "large", "full")


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
        Preferred rendition, one of :data:`RENDITIONS`; empty for the source's default.
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

    @classmethod
    def from_inputs(cls, text: str = "", cameras: str | Iterable[str] = (), **values) -> "Query":
        """A query from what a person typed: text fields stripped, cameras given comma-separated, repeated, or both.

        Examples
        --------
        >>> Query.from_inputs(text=" gale ", cameras=["NAV_LEFT_B, MAST_LEFT", " "], target=" mars ")
        Query(text='gale', sol_min=None, sol_max=None, cameras=('NAV_LEFT_B', 'MAST_LEFT'), year_start=None, \
year_end=None, size='', target='mars', mission='', instrument='', spacecraft='', include_partial=False)
        """
        given = [cameras] if isinstance(cameras, str) else list(cameras)
        split = tuple(camera.strip() for value in given for camera in value.split(",") if camera.strip())
        cleaned = {name: value.strip() if isinstance(value, str) else value for name, value in values.items()}
        return cls(text=text.strip(), cameras=split, **cleaned)

    def __post_init__(self):
        if self.sol_min is not None and self.sol_max is not None and self.sol_min > self.sol_max:
            raise SourceError(f"sol range {self.sol_min}..{self.sol_max} is empty: the minimum is above the maximum")
        if self.year_start and self.year_end and self.year_start > self.year_end:
            raise SourceError(f"year range {self.year_start}..{self.year_end} is empty")


class Page(NamedTuple):
    """One page of a service's answer, as a source client reads it.

    Attributes
    ----------
    items : list
        The raw items of the page (untrusted; :meth:`PagedSource.item` reads each).
    total : int or None
        How many items the whole listing holds, where the service says so.
    next : object or None
        Where the next page is (a page number, an offset, a URL: whatever `page` takes); None on the last page.
    """

    items: list
    total: int | None
    next: object | None


class PagedSource:
    """A client of one paged NASA listing: what each source shares (set-up, refusals, the paging loop).

    A subclass names itself and says which :class:`Query` fields it uses (the others are refused, so a
    filter is never silently ignored), where its service is by default, how to read one page
    (:meth:`page`) and one item (:meth:`item`).

    Parameters
    ----------
    session : marsviz.fetch.NasaSession
        All requests go through it.
    query : Query
        What to list.
    api_root : str, optional
        Base URL of the service (default :attr:`default_root`); tests point it at a local server.

    Raises
    ------
    SourceError
        If `query` sets a field this source does not use.
    """

    #: The source's name, as the command line and the catalog's ``source`` column have it.
    name: ClassVar[str]
    #: What the source is, in a few words, for the Scrape page and the command line's help.
    description: ClassVar[str]
    #: The :class:`Query` fields this source uses.
    query_fields: ClassVar[tuple[str, ...]]
    #: The service's base URL.
    default_root: ClassVar[str]
    #: What the Scrape page shows in an empty filter field: the default, or how values are spelled.
    placeholders: ClassVar[dict[str, str]] = {}

    def __init__(self, session, query: Query, api_root: str | None = None):
        refuse(self.name, query, *(f.name for f in fields(Query) if f.name not in self.query_fields))
        self.session = session
        self.query = query
        self.api_root = (api_root or self.default_root).rstrip("/")
        self.total: int | None = None

    def first_page(self) -> object:
        """Where the first page is (what :meth:`page` takes)."""
        raise NotImplementedError

    def page(self, where) -> Page:
        """Fetch and check the page at `where`.

        Raises
        ------
        SourceError
            If the answer is not what the service sends.
        """
        raise NotImplementedError

    def item(self, raw) -> SourceItem | None:
        """One raw item as a :class:`SourceItem`; None for an item to skip (not an image, filtered out, broken)."""
        raise NotImplementedError

    def items(self) -> Iterator[SourceItem]:
        """Every matching item, page after page, until a page says it is the last or comes back empty.

        :attr:`total` holds the listing's size as soon as a page has said it.
        """
        where = self.first_page()
        while where is not None:
            page = self.page(where)
            if page.total is not None:
                self.total = page.total
            for raw in page.items:
                item = self.item(raw)
                if item is not None:
                    yield item
            where = page.next if page.items else None


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
    """A response field as an integer, or None when it is missing or not a number.

    Examples
    --------
    >>> as_int("42"), as_int(None), as_int("n/a")
    (42, None, None)
    """
    try:
        return int(value)
    except (TypeError, ValueError):
        return None



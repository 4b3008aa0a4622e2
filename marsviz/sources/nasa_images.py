"""NASA Image and Video Library (images-api.nasa.gov), where Photojournal's PIA images also live.

Searches with ``media_type=image``, follows the ``next`` paging links, and picks each item's file by
``rel`` and rendition size from its links (the 1.1 format lists every size) or, when the links only
offer a thumbnail (format 1.0), from the asset manifest ``/asset/{nasa_id}``.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from marsviz.errors import FetchError, HTTPStatusError, SourceError
from marsviz.provenance import Provenance
from marsviz.sources._base import Page, PagedSource, Query, SourceItem, https, on_root, page_size, text

DEFAULT_ROOT = "https://images-api.nasa.gov"
DETAILS_URL = "https://images.nasa.gov/details/{}"
#: Renditions tried, best first, for each requested size.  ``~orig`` files can be hundreds of MB, so
#: they are only taken when asked for.
PREFERENCE = {
    "small": ("small", "medium", "thumb"),
    "medium": ("medium", "large", "small", "thumb"),
    "large": ("large", "medium", "small", "thumb"),
    "full": ("orig", "large", "medium", "small", "thumb"),
}
_RENDITION = re.compile(r"~(orig|large|medium|small|thumb)\.[A-Za-z0-9]+$")
_IMAGE_REL = {"canonical", "alternate", "preview"}


class NasaImagesSource(PagedSource):
    """Search results of the NASA Image and Video Library.

    Parameters
    ----------
    session : NasaSession
    query : Query
        ``text`` (default ``mars``), ``year_start``/``year_end``, ``size`` (default ``medium``).
    api_root : str, optional
        Default ``https://images-api.nasa.gov``.
    """

    name = "nasa-images"
    description = "NASA Image and Video Library (incl. Photojournal PIA images)"
    query_fields = ("text", "year_start", "year_end", "size")
    default_root = DEFAULT_ROOT

    def __init__(self, session, query: Query, api_root: str | None = None):
        super().__init__(session, query, api_root)
        size = query.size or "medium"
        if size not in PREFERENCE:
            raise SourceError(f"{self.name}: size must be one of {', '.join(PREFERENCE)}")
        self.preference = PREFERENCE[size]

    def first_page(self) -> tuple[str, dict]:
        """The search URL and its parameters (later pages' links carry their own)."""
        params = {"q": self.query.text or "mars", "media_type": "image", "page_size": page_size(), "page": 1}
        if self.query.year_start:
            params["year_start"] = f"{self.query.year_start:04d}"
        if self.query.year_end:
            params["year_end"] = f"{self.query.year_end:04d}"
        return f"{self.api_root}/search", params

    def page(self, where: tuple[str, dict | None]) -> Page:
        """One page of the search; the next is the answer's ``next`` link."""
        url, params = where
        collection = _collection(self.session.get_json(url, params), url)
        hits = (collection.get("metadata") or {}).get("total_hits")
        following = [link.get("href") for link in collection.get("links") or []
                     if isinstance(link, dict) and link.get("rel") == "next" and link.get("href")]
        return Page(collection.get("items") or [], hits if isinstance(hits, int) else None,
                    (on_root(following[0], self.api_root), None) if following else None)

    def item(self, raw) -> SourceItem | None:
        if not isinstance(raw, dict) or not raw.get("data") or not isinstance(raw["data"][0], dict):
            return None
        data = raw["data"][0]
        nasa_id = text(data.get("nasa_id"), 300)
        if data.get("media_type") != "image" or not nasa_id:
            return None
        links = [link for link in raw.get("links") or [] if isinstance(link, dict)]
        url = self._pick([link.get("href") for link in links
                          if link.get("rel") in _IMAGE_REL and link.get("render", "image") == "image"],
                         wanted_only=True)
        preview = self._pick([link.get("href") for link in links if link.get("rel") == "preview"])
        # The library has no mission or instrument field; its keywords are free text, not a mission name.
        provenance = Provenance(
            source=self.name, name=nasa_id, source_id=nasa_id, page_url=DETAILS_URL.format(quote(nasa_id)),
            file_url=url or "", title=text(data.get("title"), 500),
            description=text(data.get("description") or data.get("description_508")),
            date_taken=text(data.get("date_created"), 40),
            credit=text(data.get("photographer") or data.get("secondary_creator") or data.get("center"), 300))
        if url is not None:
            return SourceItem(provenance, url)
        # Format 1.0 lists only the thumbnail: the wanted size is in the asset manifest, fetched only if
        # the item is new.
        return SourceItem(provenance, resolve_url=lambda: self._from_manifest(nasa_id) or preview)

    def _pick(self, hrefs, wanted_only: bool = False) -> str | None:
        """The best rendition among `hrefs`; with `wanted_only`, only one of the preferred sizes but the
        thumbnail (which the 1.0 format offers as its only link)."""
        by_size = {}
        for href in hrefs:
            match = _RENDITION.search(href or "")
            if match:
                by_size.setdefault(match.group(1), href)
        choices = [size for size in self.preference if not (wanted_only and size == "thumb")]
        for size in choices:
            if size in by_size:
                return https(by_size[size], self.api_root)
        return None

    def _from_manifest(self, nasa_id: str) -> str | None:
        url = f"{self.api_root}/asset/{quote(nasa_id, safe='')}"
        try:
            manifest = _collection(self.session.get_json(url), url)
        except HTTPStatusError as error:
            if error.status == 404:
                return None
            raise FetchError(f"{nasa_id}: asset manifest: {error}") from error
        return self._pick([entry.get("href") for entry in manifest.get("items") or [] if isinstance(entry, dict)])


def _collection(answer, url: str) -> dict:
    collection = answer.get("collection") if isinstance(answer, dict) else None
    if not isinstance(collection, dict):
        raise SourceError(f"{url}: the answer has no 'collection'; not an Image and Video Library response")
    return collection

"""The rover raw-image feeds on mars.nasa.gov: Perseverance (``mars2020``) and Curiosity (``msl``).

Both are undocumented JSON feeds behind NASA's raw-image galleries, paged with a 0-based ``page``.
Filters: one sol or a sol range, cameras.  Only full frames are taken by default; thumbnails and
subframes are skipped (also on the client side, in case the service ignores the filter).
"""

from __future__ import annotations

from urllib.parse import urljoin

from marsviz.errors import SourceError
from marsviz.provenance import Provenance
from marsviz.sources._base import Page, PagedSource, Query, SourceItem, as_int, https, page_size, text

DEFAULT_ROOT = "https://mars.nasa.gov"
PUBLIC_SITE = "https://mars.nasa.gov"
#: Perseverance ``image_files`` keys tried, best first, for each requested size.  ``full_res`` is a PNG
#: several MB large; ``large`` (1200 px JPEG) is above the analysis resolution already.
MARS2020_PREFERENCE = {
    "small": ("small", "medium", "large", "full_res"),
    "medium": ("medium", "large", "small", "full_res"),
    "large": ("large", "full_res", "medium", "small"),
    "full": ("full_res", "large", "medium", "small"),
}


def _page_items(answer, key: str, url: str) -> list:
    if not isinstance(answer, dict) or not isinstance(answer.get(key), list):
        raise SourceError(f"{url}: the answer has no '{key}' list; not a raw-image feed response")
    return answer[key]


class Mars2020Source(PagedSource):
    """Perseverance raw images from ``/rss/api/?feed=raw_images&category=mars2020``.

    Parameters
    ----------
    session : NasaSession
    query : Query
        ``sol_min``/``sol_max``, ``cameras`` (e.g. ``NAVCAM_LEFT``, ``MCZ_RIGHT``), ``size`` (default
        ``large``), ``include_partial``.
    api_root : str, optional
        Default ``https://mars.nasa.gov``.
    """

    name = "mars2020"
    description = "Perseverance (Mars 2020) raw images"
    query_fields = ("sol_min", "sol_max", "cameras", "size", "include_partial")
    default_root = DEFAULT_ROOT

    def __init__(self, session, query: Query, api_root: str | None = None):
        super().__init__(session, query, api_root)
        size = query.size or "large"
        if size not in MARS2020_PREFERENCE:
            raise SourceError(f"{self.name}: size must be one of {', '.join(MARS2020_PREFERENCE)}")
        self.preference = MARS2020_PREFERENCE[size]
        self.cameras = {c.upper() for c in query.cameras}

    def params(self, page: int) -> dict:
        """Query parameters of page `page` (0-based)."""
        # The feed is reported to time out or answer 403 on some queries without an explicit order.
        params = {"feed": "raw_images", "category": "mars2020", "feedtype": "json", "ver": "1.2",
                  "num": page_size(), "page": page, "order": "sol desc"}
        low, high = self.query.sol_min, self.query.sol_max
        if low is not None and low == high:
            params["sol"] = low
        else:
            if low is not None:
                params["condition_2"] = f"{low}:sol:gte"
            if high is not None:
                params["condition_3"] = f"{high}:sol:lte"
        if self.cameras:
            params["search"] = "|" + "|".join(sorted(self.cameras))
        if not self.query.include_partial:
            params["extended"] = "sample_type::full,"
        return params

    def first_page(self) -> int:
        """The first page's number (the feed counts from 0)."""
        return 0

    def page(self, number: int) -> Page:
        """Page `number`; the last is short, or reaches ``total_results``."""
        url = f"{self.api_root}/rss/api/"
        answer = self.session.get_json(url, self.params(number))
        images = _page_items(answer, "images", url)
        total = as_int(answer.get("total_results"))
        per_page = as_int(answer.get("per_page")) or page_size()
        last = len(images) < per_page or (total is not None and (number + 1) * per_page >= total)
        return Page(images, total, None if last else number + 1)

    def item(self, raw) -> SourceItem | None:
        if not isinstance(raw, dict):
            return None
        image_id = text(raw.get("imageid"), 200)
        camera = raw.get("camera") if isinstance(raw.get("camera"), dict) else {}
        instrument = text(camera.get("instrument"), 100)
        if not image_id or (self.cameras and instrument.upper() not in self.cameras):
            return None
        if not self.query.include_partial and text(raw.get("sample_type")).lower() != "full":
            return None
        if not self._in_sols(as_int(raw.get("sol"))):
            return None
        files = raw.get("image_files") if isinstance(raw.get("image_files"), dict) else {}
        url = next((files[key] for key in self.preference if isinstance(files.get(key), str)), None)
        if not url:
            return None
        url = https(url, self.api_root)
        taken = text(raw.get("date_taken_utc"), 40)
        if taken and not taken.endswith("Z") and "+" not in taken[10:]:
            taken += "Z"  # the feed gives UTC without a zone designator
        provenance = Provenance(
            source=self.name, name=image_id, source_id=image_id, page_url=text(raw.get("link"), 1000),
            file_url=url, title=text(raw.get("title"), 500), description=text(raw.get("caption")),
            mission="Mars 2020 (Perseverance)", instrument=instrument, sol=as_int(raw.get("sol")),
            date_taken=taken, credit=text(raw.get("credit"), 300))
        return SourceItem(provenance, url)

    def _in_sols(self, sol: int | None) -> bool:
        low, high = self.query.sol_min, self.query.sol_max
        if sol is None:
            return low is None and high is None
        return (low is None or sol >= low) and (high is None or sol <= high)


class CuriositySource(Mars2020Source):
    """Curiosity raw images from ``/api/v1/raw_image_items/`` (``condition_1=msl:mission``).

    Parameters
    ----------
    session : NasaSession
    query : Query
        ``sol_min``/``sol_max``, ``cameras`` (e.g. ``NAV_LEFT_B``, ``MAST_LEFT``), ``include_partial``.
        The feed offers one file per image, so ``size`` is refused.
    api_root : str, optional
        Default ``https://mars.nasa.gov``.
    """

    name = "msl"
    description = "Curiosity (MSL) raw images"
    query_fields = ("sol_min", "sol_max", "cameras", "include_partial")

    def params(self, page: int) -> dict:
        # Without the mission condition the feed mixes in other missions' images.
        params = {"order": "sol desc,instrument_sort asc,sample_type_sort asc, date_taken desc",
                  "per_page": page_size(), "page": page, "condition_1": "msl:mission"}
        conditions = []
        low, high = self.query.sol_min, self.query.sol_max
        if low is not None and low == high:
            conditions.append(f"{low}:sol:in")
        else:
            if low is not None:
                conditions.append(f"{low}:sol:gte")
            if high is not None:
                conditions.append(f"{high}:sol:lte")
        if self.cameras:
            conditions.append(",".join(sorted(self.cameras)) + ":instrument:in")
        for number, condition in enumerate(conditions, start=2):
            params[f"condition_{number}"] = condition
        return params

    def page(self, number: int) -> Page:
        """Page `number`; the feed says whether there are ``more``."""
        url = f"{self.api_root}/api/v1/raw_image_items/"
        answer = self.session.get_json(url, self.params(number))
        return Page(_page_items(answer, "items", url), as_int(answer.get("total")),
                    number + 1 if answer.get("more") else None)

    def item(self, raw) -> SourceItem | None:
        if not isinstance(raw, dict):
            return None
        image_id = text(raw.get("imageid"), 200)
        instrument = text(raw.get("instrument"), 100)
        if not image_id or (self.cameras and instrument.upper() not in self.cameras):
            return None
        extended = raw.get("extended") if isinstance(raw.get("extended"), dict) else {}
        full = text(extended.get("sample_type")).lower() == "full" and not raw.get("is_thumbnail")
        if not self.query.include_partial and not full:
            return None
        if not self._in_sols(as_int(raw.get("sol"))):
            return None
        url = raw.get("https_url") or raw.get("url")
        if not isinstance(url, str) or not url:
            return None
        url = https(url, self.api_root)
        link = text(raw.get("link"), 1000)
        provenance = Provenance(
            source=self.name, name=image_id, source_id=image_id,
            page_url=urljoin(PUBLIC_SITE, link) if link else "", file_url=url, title=text(raw.get("title"), 500),
            description=text(raw.get("description")), mission="Mars Science Laboratory (Curiosity)",
            instrument=instrument, sol=as_int(raw.get("sol")), date_taken=text(raw.get("date_taken"), 40),
            credit=text(raw.get("image_credit"), 300))
        return SourceItem(provenance, url)

"""PDS Imaging Atlas IV (Elasticsearch), the Atlas the PDS Imaging Node runs now: products with a browse image,
each with its label.

Searches ``POST /api/search/atlas/_search`` with an Elasticsearch 7 query (products whose browse image exists,
filtered by mission, spacecraft, instrument, target and sol), and pages with ``search_after`` on the sort
values of the last hit (``from`` is capped at 10,000 hits), or with ``from`` when an answer has no sort values.
Files come through the Data Access API, ``GET /api/data/{uri}``, which redirects to the archive: the browse
image (or the Atlas's WebP copy at 256, 512 or 1024 px) and the product's PDS3 or PDS4 label, which the scrape
reads for the product's place, scale and lighting (:mod:`marsviz.label_file`).
"""

from __future__ import annotations

from urllib.parse import quote

from marsviz.errors import HTTPStatusError, SourceError
from marsviz.provenance import Provenance
from marsviz.sources._base import Page, PagedSource, SourceItem, as_int, first, page_size, text

DEFAULT_ROOT = "https://pds-imaging.jpl.nasa.gov"
SEARCH_PATH = "/api/search/atlas/_search"
DATA_PATH = "/api/data/"
#: The seed's spacecraft: the Mars Pathfinder lander (the Carl Sagan Memorial Station), by its Atlas IV code.
DEFAULT_SPACECRAFT = "csms"
DEFAULT_TARGET = "mars"
#: The Atlas's resized WebP copies of a browse image (256, 512, 1024 px), by rendition; ``full`` (the default)
#: takes the browse file itself.
SIZE_SUFFIXES = {"small": ":sm", "medium": ":md", "large": ":lg", "full": ""}
#: The parts of a hit's ``_source`` read here (a product's whole label is in it too, and can be large).
SOURCE_FIELDS = ["uri", "release_id_num", "gather.common", "gather.time.start_time", "gather.pds_archive.product_id",
                 "gather.pds_archive.file_name", "gather.pds_archive.related.browse.uri",
                 "gather.pds_archive.related.label.uri", "gather.landed_missions.planet_day_number"]
BROWSE_FIELD = "gather.pds_archive.related.browse.uri"


def spellings(value: str) -> list[str]:
    """`value` as typed and in the cases the Atlas stores codes and names in (``mars_2020``, ``HIRISE``,
    ``Mars``): its filters match exactly, and which case a field holds is not documented.

    Examples
    --------
    >>> spellings(" Mars 2020 ")
    ['MARS_2020', 'Mars_2020', 'mars_2020']
    """
    code = "_".join(value.split())
    return sorted({code, code.lower(), code.upper(), code.capitalize()})


class PdsAtlas4Source(PagedSource):
    """Products of the PDS Imaging Atlas IV with a browse image, and their labels.

    Parameters
    ----------
    session : NasaSession
    query : Query
        ``spacecraft`` (default ``csms``, the Mars Pathfinder lander), ``mission``, ``instrument``, ``target``
        (default ``mars``), all as the Atlas codes them (``mpf``, ``mars_2020``, ``perseverance``, ``HIRISE``;
        spaces are read as underscores, case does not matter), ``sol_min``/``sol_max``, and ``size``.
    api_root : str, optional
        Default ``https://pds-imaging.jpl.nasa.gov``.
    """

    name = "pds-atlas4"
    description = "PDS Imaging Atlas IV, with each product's label (default: Mars Pathfinder lander)"
    query_fields = ("sol_min", "sol_max", "target", "mission", "instrument", "spacecraft", "size")
    default_root = DEFAULT_ROOT
    placeholders = {"target": DEFAULT_TARGET, "spacecraft": f"{DEFAULT_SPACECRAFT} (Mars Pathfinder lander)",
                    "mission": "any (mpf, msl, mro...)", "instrument": "any (imp, hirise...)"}

    def __init__(self, session, query, api_root: str | None = None):
        super().__init__(session, query, api_root)
        if query.size and query.size not in SIZE_SUFFIXES:
            raise SourceError(f"{self.name}: size must be one of {', '.join(SIZE_SUFFIXES)}")

    def filters(self) -> list[dict]:
        """The Elasticsearch filters of this query."""
        q = self.query
        filters = [{"exists": {"field": BROWSE_FIELD}},
                   {"terms": {"gather.common.target": spellings(q.target or DEFAULT_TARGET)}},
                   {"terms": {"gather.common.spacecraft": spellings(q.spacecraft or DEFAULT_SPACECRAFT)}}]
        for field, value in (("mission", q.mission), ("instrument", q.instrument)):
            if value:
                filters.append({"terms": {f"gather.common.{field}": spellings(value)}})
        if q.sol_min is not None or q.sol_max is not None:
            sols = {key: int(value) for key, value in (("gte", q.sol_min), ("lte", q.sol_max)) if value is not None}
            filters.append({"range": {"gather.landed_missions.planet_day_number": sols}})
        return filters

    def body(self, where: tuple[int, list | None]) -> dict:
        """The search request for the page at `where`: (offset, the previous page's last sort values or None)."""
        offset, after = where
        body = {"query": {"bool": {"filter": self.filters()}}, "size": page_size(), "track_total_hits": True,
                "sort": [{"gather.time.start_time": {"order": "asc", "missing": "_last", "unmapped_type": "date"}},
                         {"uri": "asc"}],
                "_source": SOURCE_FIELDS}
        if after is not None:
            body["search_after"] = after
        else:
            body["from"] = offset
        return body

    def first_page(self) -> tuple[int, None]:
        """The first page: offset 0, nothing to search after."""
        return 0, None

    def page(self, where: tuple[int, list | None]) -> Page:
        """The hits at `where`; the next page follows the last hit, until the total is reached."""
        url = f"{self.api_root}{SEARCH_PATH}"
        try:
            answer = self.session.post_json(url, self.body(where))
        except HTTPStatusError as error:
            if error.status != 403:
                raise
            raise SourceError(f"{error}. The PDS Imaging Node refuses some networks (requests from data centres and "
                              "cloud machines are reported to get 403); try from another network") from None
        if not isinstance(answer, dict):
            raise SourceError(f"{url}: not an Elasticsearch answer")
        if isinstance(answer.get("error"), (dict, str)):
            error = answer["error"]
            reason = error.get("reason") or error.get("type") if isinstance(error, dict) else error
            raise SourceError(f"{url}: the Atlas refused the search: {text(reason, 300)}")
        hits = answer.get("hits")
        if not isinstance(hits, dict) or not isinstance(hits.get("hits"), list):
            raise SourceError(f"{url}: the answer has no 'hits.hits'; not an Elasticsearch answer")
        found = hits["hits"]
        total = hits.get("total")
        total = as_int(total.get("value") if isinstance(total, dict) else total)
        offset = where[0] + len(found)
        if not found or (total is not None and offset >= total):
            return Page(found, total, None)
        last = found[-1].get("sort") if isinstance(found[-1], dict) else None
        return Page(found, total, (offset, last if isinstance(last, list) and last else None))

    def data_url(self, uri: str, release: int | None = None, suffix: str = "") -> str:
        """The Data Access API's URL of the file an Atlas `uri` names, in the product's `release` (the Atlas's
        delivery number; without it the API takes release 0), ``:sm``-style `suffix`: a WebP copy."""
        delivery = "" if release is None else f"::{release}"
        return f"{self.api_root}{DATA_PATH}{quote(uri, safe=':/')}{delivery}{suffix}"

    def item(self, hit) -> SourceItem | None:
        source = hit.get("_source") if isinstance(hit, dict) else None
        if not isinstance(source, dict):
            return None
        gather = _mapping(source.get("gather"))
        common, archive = _mapping(gather.get("common")), _mapping(gather.get("pds_archive"))
        related = _mapping(archive.get("related"))
        uri = text(source.get("uri") or hit.get("_id"), 1000)
        browse = text(_mapping(related.get("browse")).get("uri"), 1000)
        label = text(_mapping(related.get("label")).get("uri"), 1000)
        if not uri.startswith("atlas:") or not browse.startswith("atlas:"):
            return None
        # atlas:{standard}:{mission}:{spacecraft}:/{path}: the codes stand in where the hit lacks gather.common
        _, _, mission_code, spacecraft_code, *_ = (uri.split(":", 4) + ["", "", "", ""])[:5]
        mission = text(common.get("mission") or mission_code, 100)
        spacecraft = text(common.get("spacecraft") or spacecraft_code, 100)
        instrument = text(common.get("instrument"), 100)
        name = text(archive.get("product_id") or archive.get("file_name") or uri.rsplit("/", 1)[-1], 200)
        release = _release(source.get("release_id_num"))
        image_url = self.data_url(browse, release, SIZE_SUFFIXES.get(self.query.size, ""))
        label_url = self.data_url(label, release) if label.startswith("atlas:") else ""
        description = "; ".join(part for part in (
            f"spacecraft: {spacecraft}" if spacecraft else "",
            f"product type: {text(common.get('product_type'), 100)}" if common.get("product_type") else "",
            f"Atlas URI: {uri}") if part)
        provenance = Provenance(
            source=self.name, name=name, source_id=uri.split("::", 1)[0], page_url=label_url, file_url=image_url,
            title=f"{mission} {instrument} {name}".strip(), description=description, mission=mission,
            instrument=instrument, sol=as_int(first(_mapping(gather.get("landed_missions")).get("planet_day_number"))),
            date_taken=text(first(_mapping(gather.get("time")).get("start_time")), 40),
            credit="NASA/JPL, PDS Imaging Node")
        return SourceItem(provenance, image_url, label_url=label_url)


def _mapping(value) -> dict:
    return value if isinstance(value, dict) else {}


def _release(value) -> int | None:
    """A hit's ``release_id_num`` (a whole number, sometimes sent as ``10.0``), or None when it has none."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if number.is_integer() and 0 <= number < 1e9 else None

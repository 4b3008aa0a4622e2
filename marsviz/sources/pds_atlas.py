"""PDS Imaging Node Atlas III search (Solr): by default the seed's Mars Pathfinder lander images.

Queries ``/solr/pds_archives/search`` with the filters of the seed link (target ``mars``, spacecraft
``carl sagan memorial station``, products whose browse image exists), pages with ``start``/``rows``,
and downloads each product's browse JPEG (the raw products are PDS ``.img`` files, not images a
browser can show), with its label.  No real Atlas III response has been recorded publicly; the field
names follow the documented schema, and multi-valued fields are read whether they come as lists or scalars.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

from marsviz.errors import SourceError
from marsviz.provenance import Provenance
from marsviz.sources._base import Page, PagedSource, SourceItem, as_int, first, https, page_size, text

DEFAULT_ROOT = "https://pds-imaging.jpl.nasa.gov"
DEFAULT_TARGET = "mars"
DEFAULT_SPACECRAFT = "carl sagan memorial station"
NO_BROWSE = "brwsnotavail.jpg"


def solr_phrase(value: str) -> str:
    """`value` as a quoted Solr phrase, lower-cased as the Atlas stores it, with quotes escaped.

    Examples
    --------
    >>> solr_phrase('Carl "Sagan"')
    '"carl \\\\"sagan\\\\""'
    """
    escaped = value.strip().lower().replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


class PdsAtlasSource(PagedSource):
    """Products of the PDS Imaging Atlas with a browse image.

    Parameters
    ----------
    session : NasaSession
    query : Query
        ``target`` (default ``mars``), ``spacecraft`` (default ``carl sagan memorial station``, the Mars
        Pathfinder lander), ``mission``, ``instrument``, ``sol_min``/``sol_max``.
    api_root : str, optional
        Default ``https://pds-imaging.jpl.nasa.gov``.
    """

    name = "pds-atlas"
    description = "PDS Imaging Atlas III, the older search; it may no longer answer (default: Mars Pathfinder lander)"
    query_fields = ("sol_min", "sol_max", "target", "mission", "instrument", "spacecraft")
    default_root = DEFAULT_ROOT
    placeholders = {"target": DEFAULT_TARGET, "spacecraft": DEFAULT_SPACECRAFT}

    def filters(self) -> list[str]:
        """The Solr ``fq`` filters of this query."""
        q = self.query
        filters = [f"TARGET_NAME:{solr_phrase(q.target or DEFAULT_TARGET)}",
                   f"ATLAS_SPACECRAFT_NAME:{solr_phrase(q.spacecraft or DEFAULT_SPACECRAFT)}"]
        if q.mission:
            filters.append(f"ATLAS_MISSION_NAME:{solr_phrase(q.mission)}")
        if q.instrument:
            filters.append(f"ATLAS_INSTRUMENT_NAME:{solr_phrase(q.instrument)}")
        if q.sol_min is not None or q.sol_max is not None:
            low = "*" if q.sol_min is None else int(q.sol_min)
            high = "*" if q.sol_max is None else int(q.sol_max)
            filters.append(f"PLANET_DAY_NUMBER:[{low} TO {high}]")
        filters.append(f"-ATLAS_THUMBNAIL_URL:{NO_BROWSE}")
        return filters

    def first_page(self) -> int:
        """The offset of the first result."""
        return 0

    def page(self, start: int) -> Page:
        """The results from offset `start` on; the next page starts after them, until ``numFound``."""
        url = f"{self.api_root}/solr/pds_archives/search"
        params = {"q": "*:*", "fq": self.filters(), "rows": page_size(), "start": start, "wt": "json"}
        answer = self.session.get_json(url, params)
        if not isinstance(answer, dict):
            raise SourceError(f"{url}: not a Solr response")
        if isinstance(answer.get("error"), dict):
            raise SourceError(f"{url}: the Atlas refused the search: {text(answer['error'].get('msg'), 300)}")
        response = answer.get("response")
        if not isinstance(response, dict) or not isinstance(response.get("docs"), list):
            raise SourceError(f"{url}: the answer has no 'response.docs'; not a Solr response")
        docs, total = response["docs"], as_int(response.get("numFound"))
        after = start + len(docs)
        return Page(docs, total, after if total is not None and after < total else None)

    def item(self, doc) -> SourceItem | None:
        if not isinstance(doc, dict):
            return None
        product_id = text(first(doc.get("PRODUCT_ID")) or first(doc.get("uuid")), 200)
        browse = first(doc.get("ATLAS_BROWSE_URL")) or first(doc.get("ATLAS_THUMBNAIL_URL"))
        if not product_id or not isinstance(browse, str) or browse.endswith(NO_BROWSE):
            return None
        url = https(_collapse_slashes(browse), self.api_root)
        instrument = text(first(doc.get("ATLAS_INSTRUMENT_NAME")) or doc.get("INSTRUMENT_NAME"), 100)
        spacecraft = text(first(doc.get("ATLAS_SPACECRAFT_NAME")) or doc.get("SPACECRAFT_NAME"), 100)
        mission = text(first(doc.get("ATLAS_MISSION_NAME")), 100)
        filters = text(doc.get("FILTER_NAME"), 200)
        description = "; ".join(part for part in (
            f"spacecraft: {spacecraft}" if spacecraft else "", f"filter: {filters}" if filters else "",
            f"data set: {text(first(doc.get('DATA_SET_ID')), 100)}" if doc.get("DATA_SET_ID") else "") if part)
        label = first(doc.get("ATLAS_LABEL_URL"))
        label_url = https(_collapse_slashes(label), self.api_root) if isinstance(label, str) else ""
        provenance = Provenance(
            source=self.name, name=product_id, source_id=product_id, page_url=label_url,
            file_url=url, title=f"{mission or spacecraft} {instrument} {product_id}".strip(),
            description=description, mission=mission, instrument=instrument,
            sol=as_int(first(doc.get("PLANET_DAY_NUMBER"))), date_taken=text(first(doc.get("START_TIME")), 40),
            credit="NASA/JPL, PDS Imaging Node")
        return SourceItem(provenance, url, label_url=label_url)


def _collapse_slashes(url: str) -> str:
    """`url` with runs of slashes in its path made single (the Atlas index holds some ``///`` paths)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, re.sub(r"/{2,}", "/", parts.path), parts.query, ""))

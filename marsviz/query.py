"""Search, filter and sort a ranked catalog table, vectorised over every row; and the query as URL parameters.

A :class:`RankingQuery` is what a person asks the Ranking page for.  :func:`select` answers it over
the whole ranked table (never one page of it) with numpy masks and one sort, and
:meth:`RankingQuery.to_params` / :meth:`RankingQuery.from_params` carry it in a link.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from marsviz.registry import LEARNED_SCORE, REGISTRY

#: The columns a search looks in: the name a person knows, the title, the source's product or image id.
SEARCHED_COLUMNS = ("name", "title", "source_id", "product_id")
#: Columns filtered by equality to any of the chosen values, by URL parameter name.
CHOICE_COLUMNS = ("source", "mission", "instrument", "view", "season")
#: The "New to you" order (:mod:`marsviz.novelty`): not a column of the table; :func:`select` is given it.
NEW_TO_YOU = "new_to_you"
#: Columns the whole table can be sorted by, besides the features; "rank" is the composite score's order.
SORTABLE = ("rank", "score", "outlier_score", LEARNED_SCORE, NEW_TO_YOU, "name", "sol", "date_taken", "added_at",
            "source", "mission", "instrument", "view", "product_id", "latitude", "longitude", "scale_m_per_px",
            "observed_at", "solar_longitude")
#: Every URL parameter of a query (:meth:`RankingQuery.to_params`, :meth:`RankingQuery.from_params`).
PARAMS = ("q", *CHOICE_COLUMNS, "kind", "sol", "score", "lat", "scale", "outliers", "reviewed", "label", "sort",
          "order")
#: Columns an export holds, in this order (features follow); internal fields (hashes, versions) are left out.
EXPORTED = ("rank", "id", "name", "score", "outlier", "outlier_score", "percentile", "view", "view_confidence",
            "label", "note", "labeled_by", "labeled_at", LEARNED_SCORE, "source", "source_id", "mission", "spacecraft",
            "instrument", "product_id", "target", "sol", "date_taken", "latitude", "longitude", "location_from",
            "observed_at", "time_from", "solar_longitude", "mars_year", "season", "scale_m_per_px",
            "incidence_angle", "emission_angle", "title", "credit", "page_url", "file_url", "width", "height",
            "is_color", "added_at")


def sortable_columns() -> list[str]:
    """Every column :func:`select` can sort by: :data:`SORTABLE`, then each registry feature."""
    return [*SORTABLE, *REGISTRY]


@dataclass(frozen=True)
class RankingQuery:
    """What to show of a ranked catalog: a search, filters and a sort order.

    Attributes
    ----------
    search : str
        Words that must each occur (case-insensitive) in the name, title or source id; empty keeps every row.
    source, mission, instrument, view, season : tuple of str
        Values kept in that column; empty keeps every row.  Seasons are by hemisphere (``southern spring``,
        :data:`marsviz.context.mars_time.SEASON_NAMES`), known where an image's place and time are.
    colour : bool or None
        True keeps colour images, False grayscale ones, None both.
    sols : (int, int) or None
        First and last Martian day kept (rows without a sol are left out); None keeps every row.
    score : (float, float) or None
        Lowest and highest composite score kept, in [0, 1] (rows without a score are left out).
    latitude : (float, float) or None
        Southernmost and northernmost centre latitude kept, in degrees (rows whose place is not known are
        left out).
    scale : (float, float) or None
        Finest and coarsest metres per pixel kept (rows whose scale is not known are left out).
    outliers_only : bool
        Keep only the robust outliers.
    reviewed : bool or None
        True keeps the images a person labeled, False the others, None both.
    label : tuple of str
        Labels kept (:mod:`marsviz.labels`); empty keeps every row.
    sort : str
        Column to sort by (:func:`sortable_columns`); ties keep rank order.
    descending : bool
        Largest first.  Rank ascending (the default) is best first.
    """

    search: str = ""
    source: tuple[str, ...] = ()
    mission: tuple[str, ...] = ()
    instrument: tuple[str, ...] = ()
    view: tuple[str, ...] = ()
    season: tuple[str, ...] = ()
    colour: bool | None = None
    sols: tuple[int, int] | None = None
    score: tuple[float, float] | None = None
    latitude: tuple[float, float] | None = None
    scale: tuple[float, float] | None = None
    outliers_only: bool = False
    reviewed: bool | None = None
    label: tuple[str, ...] = ()
    sort: str = "rank"
    descending: bool = False

    def to_params(self) -> dict[str, str | list[str]]:
        """The query as URL parameters; a default field is left out, so a plain ranking has none.

        Examples
        --------
        >>> RankingQuery(search="crater", mission=("MRO",), score=(0.5, 1.0), sort="sol").to_params()
        {'q': 'crater', 'mission': ['MRO'], 'score': '0.5-1', 'sort': 'sol'}
        >>> RankingQuery().to_params()
        {}
        """
        params: dict[str, str | list[str]] = {}
        if self.search:
            params["q"] = self.search
        for column in CHOICE_COLUMNS:
            if getattr(self, column):
                params[column] = list(getattr(self, column))
        if self.colour is not None:
            params["kind"] = "colour" if self.colour else "grayscale"
        if self.sols is not None:
            params["sol"] = f"{self.sols[0]}-{self.sols[1]}"
        if self.score is not None:
            params["score"] = f"{self.score[0]:g}-{self.score[1]:g}"
        if self.latitude is not None:
            params["lat"] = f"{self.latitude[0]:g}..{self.latitude[1]:g}"
        if self.scale is not None:
            params["scale"] = f"{self.scale[0]:g}..{self.scale[1]:g}"
        if self.outliers_only:
            params["outliers"] = "1"
        if self.reviewed is not None:
            params["reviewed"] = "yes" if self.reviewed else "no"
        if self.label:
            params["label"] = list(self.label)
        if self.sort != "rank":
            params["sort"] = self.sort
        if self.descending:
            params["order"] = "desc"
        return params

    @classmethod
    def from_params(cls, params: Mapping[str, Sequence[str]]) -> tuple[RankingQuery, list[str]]:
        """The query a link asks for, and what in the link was not understood (left at its default).

        Parameters
        ----------
        params : mapping of str to sequence of str
            Each URL parameter's values (repeated parameters give several), as ``st.query_params.get_all``.

        Examples
        --------
        >>> query, problems = RankingQuery.from_params({"q": ["dune"], "view": ["orbital", "surface"],
        ...                                             "sol": ["20-10"], "sort": ["colour_variation"]})
        >>> query.search, query.view, query.sols, query.sort
        ('dune', ('orbital', 'surface'), None, 'colour_variation')
        >>> problems
        ['sol=20-10 is not a range of sols (first-last, whole numbers)']
        """
        def last(name: str) -> str | None:
            values = params.get(name) or []
            return values[-1] if values else None

        fields: dict = {}
        problems: list[str] = []
        if last("q"):
            fields["search"] = last("q").strip()
        for column in (*CHOICE_COLUMNS, "label"):
            values = tuple(dict.fromkeys(v for v in params.get(column) or [] if v))
            if values:
                fields[column] = values
        for name, field, (yes, no) in (("kind", "colour", ("colour", "grayscale")),
                                       ("reviewed", "reviewed", ("yes", "no"))):
            raw = last(name)
            if raw is None:
                continue
            if raw in (yes, no):
                fields[field] = raw == yes
            else:
                problems.append(f"{name}={raw} is neither {yes} nor {no}")
        for name, field, parse, meaning in (
                ("sol", "sols", _int_range, "a range of sols (first-last, whole numbers)"),
                ("score", "score", _score_range, "a range of scores (low-high, within 0-1)"),
                ("lat", "latitude", _latitude_range, "a range of latitudes (south..north, degrees within -90..90)"),
                ("scale", "scale", _scale_range, "a range of scales (fine..coarse, metres per pixel)")):
            raw = last(name)
            if raw is not None:
                parsed = parse(raw)
                if parsed is None:
                    problems.append(f"{name}={raw} is not {meaning}")
                else:
                    fields[field] = parsed
        if last("outliers") is not None:
            fields["outliers_only"] = last("outliers") in ("1", "true", "yes")
        sort = last("sort")
        if sort is not None:
            if sort in sortable_columns():
                fields["sort"] = sort
            else:
                problems.append(f"sort={sort} is not a column this table can be sorted by")
        order = last("order")
        if order is not None:
            if order in ("asc", "desc"):
                fields["descending"] = order == "desc"
            else:
                problems.append(f"order={order} is neither asc nor desc")
        return cls(**fields), problems


def _split_range(text: str) -> tuple[str, str] | None:
    low, sep, high = text.partition("-")
    return (low, high) if sep and low and high else None


def _int_range(text: str) -> tuple[int, int] | None:
    parts = _split_range(text)
    try:
        low, high = (int(p) for p in parts) if parts else (None, None)
    except ValueError:
        return None
    return (low, high) if low is not None and low <= high else None


def _score_range(text: str) -> tuple[float, float] | None:
    parts = _split_range(text)
    try:
        low, high = (float(p) for p in parts) if parts else (math.nan, math.nan)
    except ValueError:
        return None
    return (low, high) if 0.0 <= low <= high <= 1.0 else None


def _float_range(text: str) -> tuple[float, float] | None:
    """``low..high`` as two finite numbers, low first (``..`` since a latitude may be negative)."""
    low, sep, high = text.partition("..")
    try:
        low, high = float(low), float(high)
    except ValueError:
        return None
    return (low, high) if sep and math.isfinite(low) and math.isfinite(high) and low <= high else None


def _latitude_range(text: str) -> tuple[float, float] | None:
    parsed = _float_range(text)
    return parsed if parsed and -90.0 <= parsed[0] and parsed[1] <= 90.0 else None


def _scale_range(text: str) -> tuple[float, float] | None:
    parsed = _float_range(text)
    return parsed if parsed and parsed[0] >= 0.0 else None


def search_index(table: pd.DataFrame) -> pa.Array:
    """One lower-case string per row joining its :data:`SEARCHED_COLUMNS`, for :func:`select`'s search.

    Built once per table (it costs about a second per million rows); each search is then a substring
    match over this array in Arrow's compute kernels.
    """
    parts = [pa.array([""] * len(table), type=pa.large_string())]
    for column in SEARCHED_COLUMNS:
        if column in table:
            text = pa.array(table[column].astype("str"), from_pandas=True)  # Arrow: no Python string per row
            parts.append(pc.fill_null(pc.cast(text, pa.large_string()), ""))
    return pc.utf8_lower(pc.binary_join_element_wise(*parts, pa.scalar("\t", pa.large_string())))


def matching(table: pd.DataFrame, query: RankingQuery, index: pa.Array | None = None,
             row_labels: pd.Series | None = None) -> np.ndarray:
    """A boolean mask: which rows of a ranked `table` pass `query`'s search and filters.

    Parameters
    ----------
    table : DataFrame
        A ranked catalog table (rank, score, outlier and the catalog's columns).
    query : RankingQuery
        The search and filters (its sort is not used here).
    index : pyarrow.Array, optional
        :func:`search_index` of `table`, to reuse across searches; built here when needed and not given.
    row_labels : Series, optional
        Each row's label, in `table`'s order, missing where it has none (:func:`labels_of_rows`); the
        table's own ``label`` column if it has one, else no row has a label.
    """
    keep = np.ones(len(table), dtype=bool)
    words = query.search.lower().split()
    if words:
        index = search_index(table) if index is None else index
        for word in words:
            keep &= pc.match_substring(index, word).to_numpy(zero_copy_only=False)
    for column in CHOICE_COLUMNS:
        chosen = getattr(query, column)
        if chosen:
            keep &= table[column].isin(chosen).to_numpy()
    if query.colour is not None:
        keep &= table["is_color"].to_numpy(dtype=bool) == query.colour
    if query.sols is not None:
        keep &= table["sol"].between(*query.sols).fillna(False).to_numpy(dtype=bool)
    for column, bounds in (("score", query.score), ("latitude", query.latitude), ("scale_m_per_px", query.scale)):
        if bounds is not None:
            values = table[column].to_numpy(dtype=float)
            with np.errstate(invalid="ignore"):
                keep &= (values >= bounds[0]) & (values <= bounds[1])
    if query.outliers_only:
        keep &= table["outlier"].to_numpy(dtype=bool)
    if query.reviewed is not None or query.label:
        if row_labels is None:
            row_labels = table["label"] if "label" in table else pd.Series(pd.NA, index=table.index, dtype=object)
        if query.reviewed is not None:
            keep &= row_labels.notna().to_numpy() == query.reviewed
        if query.label:
            keep &= row_labels.isin(query.label).to_numpy()
    return keep


def labels_of_rows(ids: pd.Index, labels: pd.DataFrame) -> pd.Series:
    """The label of each image in `ids` (an index of a table's ``id`` column, reused across calls), as a
    categorical Series; missing where an image has no label in `labels` (:meth:`marsviz.catalog.Catalog.labels`).

    Examples
    --------
    >>> labels = pd.DataFrame({"id": [7, 3, 99], "label": ["crater", "spider", "crater"]})
    >>> labels_of_rows(pd.Index([3, 5, 7]), labels).tolist()
    ['spider', nan, 'crater']
    """
    known = sorted(labels["label"].unique())
    codes = np.full(len(ids), -1, dtype=np.int32)
    positions = ids.get_indexer(labels["id"].to_numpy())
    found = positions >= 0
    codes[positions[found]] = pd.Index(known).get_indexer(labels["label"].to_numpy()[found])
    return pd.Series(pd.Categorical.from_codes(codes, categories=known))


def select(table: pd.DataFrame, query: RankingQuery, index: pa.Array | None = None,
           row_labels: pd.Series | None = None, orders: Mapping[str, np.ndarray] | None = None) -> np.ndarray:
    """Positions (for ``table.iloc``) of the rows that pass `query` (`index` and `row_labels` as for
    :func:`matching`), in its sort order.

    `orders` holds sort keys that are not columns of `table`, by name, aligned with its rows (such as
    :data:`NEW_TO_YOU`: each image's place in that order).

    Rows with no value in the sort column come last either way; ties keep the table's order (rank).

    Examples
    --------
    >>> table = pd.DataFrame({"rank": [1, 2, 3], "name": ["b.jpg", "a.jpg", "crater.png"],
    ...                       "title": ["", "", ""], "source_id": ["", "", "X1"],
    ...                       "score": [0.9, 0.5, float("nan")], "outlier": [False, True, False]})
    >>> select(table, RankingQuery(sort="name")).tolist()
    [1, 0, 2]
    >>> select(table, RankingQuery(search="X1")).tolist(), select(table, RankingQuery(outliers_only=True)).tolist()
    ([2], [1])
    """
    orders = orders or {}
    if query.sort not in table and query.sort not in orders:
        raise ValueError(f"cannot sort by {query.sort!r}: not a column of this table")
    positions = np.flatnonzero(matching(table, query, index, row_labels))
    if query.sort == "rank" and not query.descending:
        return positions  # a ranked table is already in rank order
    values = table[query.sort].iloc[positions] if query.sort in table else pd.Series(orders[query.sort][positions])
    order = values.reset_index(drop=True).sort_values(ascending=not query.descending, kind="stable",
                                                      na_position="last").index.to_numpy()
    return positions[order]


def export_columns(table: pd.DataFrame) -> list[str]:
    """The columns of `table` an export holds: :data:`EXPORTED` then every feature, where present."""
    return [c for c in [*EXPORTED, *REGISTRY] if c in table]


def to_csv(rows: pd.DataFrame) -> bytes:
    """`rows` (ranked catalog rows) as UTF-8 CSV with a header, in :func:`export_columns` order."""
    return rows[export_columns(rows)].to_csv(index=False).encode("utf-8")


def to_parquet(rows: pd.DataFrame) -> bytes:
    """`rows` (ranked catalog rows) as a Parquet file, in :func:`export_columns` order, types kept."""
    buffer = io.BytesIO()
    rows[export_columns(rows)].to_parquet(buffer, index=False)
    return buffer.getvalue()

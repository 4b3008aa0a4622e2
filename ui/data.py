"""Cached access to the catalog for the pages.

`st.cache_resource` holds the one Catalog object; `st.cache_data` holds pure results keyed by the
catalog revision (which grows with every write) and the weights, so nothing is recomputed until
the catalog or the weights change.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pyarrow as pa
import streamlit as st
from PIL import Image, ImageOps

from marsviz import config, novelty, plots, query, scoring, window
from marsviz import labels as marsviz_labels
from marsviz.access import read_only
from marsviz.archive import stored_label
from marsviz.catalog import ID_RANGE, PRODUCT_EXTENSIONS, Catalog
from marsviz.config import AnalysisSettings
from marsviz.decode import load_image
from marsviz.errors import CatalogError
from marsviz.learn import LEARNED_LABEL, LabelModel, latest_model
from marsviz.memory import release_freed_memory
from marsviz.overlays import to_rgb8
from marsviz.pipeline import reanalyse
from marsviz.registry import LEARNED_SCORE, REGISTRY, compute_all, feature_labels, feature_set_version
from marsviz.report import ImageReport, image_report
from marsviz.samples import load_samples
from marsviz.view.descriptors import VIEW_DESCRIPTOR_LABELS, VIEW_DESCRIPTOR_NAMES




def get_catalog() -> Catalog:
    """The catalog in the data folder (``MARSVIZ_HOME`` or the per-user data directory).

    Opened read-only when the setting ``read_only`` is on: then no request can change it.
    """
    return _catalog_at(str(config.home()), read_only())


@st.cache_resource
def _catalog_at(home: str, read_only_: bool) -> Catalog:
    return Catalog(home, read_only=read_only_)


def version() -> tuple[str, int]:
    """(data folder, catalog revision): the key of every cached result derived from the catalog."""
    catalog = get_catalog()
    return str(catalog.home), catalog.revision()


def ensure_samples() -> None:
    """On the very first start (empty catalog), load the bundled samples with a progress bar.

    A read-only catalog is left empty (:func:`ranking_or_stop` says how images get there).
    """
    catalog = get_catalog()
    if catalog.read_only or st.session_state.get("samples_attempted") or not catalog.is_empty():
        return
    st.session_state["samples_attempted"] = True
    bar = st.progress(0.0, text="First start: analysing the bundled sample images...")
    load_samples(catalog, lambda done, total, _: bar.progress(done / total,
                                                              text=f"First start: analysed {done} of {total}"),
                 workers=1)
    bar.empty()


#: Up to this many images analysed by an older feature version are updated when the app opens;
#: more would block the page for minutes, so the app then asks for ``python -m marsviz analyze``.
REFRESH_IN_APP_MAX = 1000


# cache_data: one count per catalog revision for every session, not a scan of every row per new session.
@st.cache_data(max_entries=4, show_spinner=False)
def _stale_count(version_: tuple[str, int], feature_version: str) -> int:
    return _catalog_at(version_[0], read_only()).stale_count(feature_version)


def refresh_stale_features() -> None:
    """Recompute features an older marsviz version computed (after an upgrade), with a progress bar.

    Checked once per catalog revision and session, so a current catalog costs one query per change.
    A read-only catalog is not changed: the page says what is missing instead.
    """
    if st.session_state.get("features_checked") == version():
        return
    catalog = get_catalog()
    stale = _stale_count(version(), feature_set_version())
    if stale and catalog.read_only:
        st.warning(f"{stale:,} images were analysed by an older version of the features, and this catalog is "
                   "read-only here: their new feature values are missing until `python -m marsviz analyze` is "
                   "run on its data folder.")
    elif stale > REFRESH_IN_APP_MAX:
        st.warning(f"{stale:,} images were analysed by an older version of the features; their new feature "
                   "values are missing until you run `python -m marsviz analyze` (it uses every core).")
    elif stale:
        bar = st.progress(0.0, text=f"The features changed since {stale} images were analysed: updating them...")
        try:
            reanalyse(catalog, workers=1, progress=lambda done, total: bar.progress(
                done / total, text=f"Updating features: {done} of {total}"))
        except CatalogError as error:
            st.warning(f"{stale} images were analysed by an older version and cannot be updated: {error}")
        bar.empty()
    st.session_state["features_checked"] = version()


#: Catalog columns the app holds as categoricals: a few values repeated over every row, so one small code
#: per row instead of a string (about 150 MB less per million-row table).
CATEGORY_COLUMNS = ("source", "mission", "instrument", "credit", "extension", "feature_version", "view", "spacecraft",
                    "target")


# cache_resource: one shared copy (callers copy before changing it: scoring.ranked does); cache_data
# would keep a pickled copy and hand each caller another, three copies of a million-row table.
@st.cache_resource(max_entries=1, show_spinner=False)
def _frame(version_: tuple[str, int]) -> pd.DataFrame:
    frame = _catalog_at(version_[0], read_only()).frame(include_synthetic=True)
    for column in CATEGORY_COLUMNS:  # one at a time: each string column is freed as it is replaced
        frame[column] = frame[column].astype("category")
    # Kept in the default preset's ranking order, so that ranking (what most sessions show) shares the
    # frame's columns instead of being a second copy of every row.
    frame = frame.take(scoring.rank_order(frame, scoring.default_weights())).reset_index(drop=True)
    release_freed_memory()
    return frame


def _weights_key(weights: dict[str, float]) -> tuple[tuple[str, float], ...]:
    """Weights as a hashable, ordered cache key."""
    return tuple((name, float(weights.get(name, 0.0))) for name in REGISTRY)


# The projection does not depend on the weights: ranking the features of a million images takes two
# seconds, so it is made once per catalog revision.
@st.cache_resource(max_entries=1, show_spinner="Mapping the features...")
def _projection(version_: tuple[str, int]) -> pd.DataFrame:
    frame = _frame(version_)
    projected = scoring.projection_2d(scoring.appearance_values(scoring.applicable_values(frame)).to_numpy(dtype=float))
    return pd.DataFrame(projected, index=frame["id"].to_numpy(), columns=["projection_1", "projection_2"])


# cache_resource, not cache_data: cache_data hands every rerun its own copy, and copying a
# 100,000-row table costs a few tenths of a second on each click.  Callers only read it.
@st.cache_resource(max_entries=3, show_spinner="Ranking...")
def _ranked_table(version_: tuple[str, int], weights: tuple[tuple[str, float], ...]) -> pd.DataFrame:
    table = scoring.ranked(_frame(version_), dict(weights))
    projected = _projection(version_).reindex(table["id"].to_numpy())
    table["projection_1"], table["projection_2"] = projected["projection_1"].to_numpy(), projected[
        "projection_2"].to_numpy()
    table["percentile"] = 100.0 * (1 - (table["rank"] - 1) / max(len(table), 1))
    release_freed_memory()
    return table


def ranked_table(weights: dict[str, float]) -> pd.DataFrame:
    """The ranked catalog under `weights` (score, outlier score, rank, percentile) plus a 2-D projection of
    all features; computed once per catalog revision and weights.

    Shared between reruns and sessions: filter or copy it, never modify it in place.
    """
    return _ranked_table(version(), _weights_key(weights))


def ranking_or_stop(weights: dict[str, float]) -> pd.DataFrame:
    """The ranked catalog for `weights`; on an empty catalog, say how to add images and stop the page."""
    table = ranked_table(weights)
    if table.empty and get_catalog().read_only:
        st.info("The catalog is empty, and this deployment is read-only: images are added to its data folder "
                "with `python -m marsviz add` or `python -m marsviz scrape`.")
        st.stop()
    if table.empty:
        st.info("The catalog is empty. Add images on the Upload page or with `python -m marsviz add`.")
        st.stop()
    return table


# cache_resource: read on every open; as cache_data each open would copy a million-row matrix.
@st.cache_resource(max_entries=1, show_spinner=False)
def _robust_z_table(version_: tuple[str, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    frame = _frame(version_)
    z = scoring.robust_z(scoring.appearance_values(scoring.applicable_values(frame)).to_numpy(dtype=float))
    return frame["id"].to_numpy(), z, scoring.neighbour_space(z)


@st.cache_data(max_entries=32, show_spinner="Computing feature maps...")
def _analysis(sha256: str, path: str) -> tuple[np.ndarray, dict]:
    """Decoded pixels and every feature's result for one stored image (keyed by its content hash), as the
    catalog's values were computed (the server's analysis settings)."""
    settings = AnalysisSettings.from_environment()
    pixels = load_image(path, max_side=settings.max_side).pixels
    return pixels, compute_all(pixels, settings=settings)


#: Longest side, in pixels, at which the viewer shows an image and draws its overlays (its full-screen
#: view shows this); larger originals are decoded down to it.
DISPLAY_MAX_SIDE = 2048


# Two caches of the same decode: display renditions are small and many are opened (cache_data, a copy per
# caller); zoom renditions are up to 50 MB each, so few are kept and they are shared, never copied.
@st.cache_data(max_entries=6, show_spinner="Loading the image...")
def _display_pixels(sha256: str, path: str, side: int) -> np.ndarray:
    return to_rgb8(load_image(path, max_side=side).pixels)


@st.cache_resource(max_entries=2, show_spinner="Loading the image at a higher resolution...")
def _zoom_pixels(sha256: str, path: str, side: int) -> np.ndarray:
    return to_rgb8(load_image(path, max_side=side).pixels)


def _rendition(row: dict, decoded: np.ndarray, side: int,
               decode: Callable[[str, str, int], np.ndarray]) -> np.ndarray:
    """`decoded` (the image of `row` at some resolution) if it is the original at full size already; else the
    stored file decoded at up to `side` px on its longest side by `decode` (a cached one)."""
    if max(decoded.shape[:2]) >= max(row["width"], row["height"]):
        return to_rgb8(decoded)
    return decode(row["sha256"], str(get_catalog().image_path(row)), side)


def display_pixels(row: dict, analysed: np.ndarray) -> np.ndarray:
    """The stored image of catalog row `row` decoded for the screen: (H, W, 3) uint8, longest side at most
    :data:`DISPLAY_MAX_SIDE` (the original's size if smaller); cached per stored file.

    `analysed` is the image at the analysis resolution (the viewer's report has it): an original no
    larger than that is not decoded again.

    Raises
    ------
    MarsvizError
        If the stored file cannot be decoded.
    FileNotFoundError
        If the stored file is missing.
    """
    return _rendition(row, analysed, DISPLAY_MAX_SIDE, _display_pixels)


#: Longest side, in pixels, from which the viewer's zoomed views are cut: twice the display's, so a zoom
#: into a large original shows detail the display rendition does not have; decoding at this side already
#: takes up to 200 MB for a moment (float pixels), and 50 MB are kept per image.
ZOOM_MAX_SIDE = 4096


def zoom_pixels(row: dict, display: np.ndarray) -> np.ndarray:
    """The stored image of catalog row `row` at the resolution the viewer's zoom cuts its parts from: the
    original's, up to :data:`ZOOM_MAX_SIDE` px; `display` itself when it has that resolution already.

    Shared between reruns and sessions: never modify it.

    Raises
    ------
    MarsvizError
        If the stored file cannot be decoded.
    FileNotFoundError
        If the stored file is missing.
    """
    return _rendition(row, display, ZOOM_MAX_SIDE, _zoom_pixels)


@st.cache_data(max_entries=4, show_spinner="Reading that part of the original...")
def _window(sha256: str, path: str, zoom: int, centre: tuple[float, float],
            side: int) -> tuple[np.ndarray, tuple[tuple[int, int], slice, slice]] | None:
    return window.read_window(path, zoom, centre, side)


def full_resolution_part(row: dict, zoom: int,
                         centre: tuple[float, float]) -> tuple[np.ndarray, tuple[tuple[int, int], slice, slice]] | None:
    """The part of catalog row `row`'s original that the viewer's `zoom` around `centre` shows, read from the
    stored file by window (:func:`marsviz.window.read_window`) at up to :data:`DISPLAY_MAX_SIDE` px, when
    that holds more detail than :func:`zoom_pixels` gives; else None (zoom into that rendition).

    Returns
    -------
    (ndarray, ((int, int), slice, slice)) or None
        The part, and where it lies in the whole image at the part's resolution.
    """
    size = (int(row["height"]), int(row["width"]))
    if max(size) / window.reduction(size, zoom, DISPLAY_MAX_SIDE) <= ZOOM_MAX_SIDE:
        return None
    return _window(row["sha256"], str(get_catalog().image_path(row)), zoom, centre, DISPLAY_MAX_SIDE)


@st.cache_data(max_entries=16, show_spinner=False)
def _product_label(sha256: str, path: str, archive: bool) -> str:
    return get_catalog().product_label(sha256) or (stored_label(path) if archive else "")


def product_label(row: dict) -> str:
    """The label of the product that catalog row `row` shows, as text ('' when none is known): the label kept
    when a browse image was scraped with it, else the stored archive product's own."""
    return _product_label(row["sha256"], str(get_catalog().image_path(row)), row["extension"] in PRODUCT_EXTENSIONS)


def report(row: dict, weights: dict[str, float]) -> ImageReport:
    """The viewer's report of the image in catalog row `row` under `weights` (:func:`marsviz.report.image_report`).

    The image is analysed once per stored file (and the catalog's z-scores once per revision); the report
    itself is built afresh, which costs a few milliseconds.

    Raises
    ------
    MarsvizError
        If the stored file cannot be decoded.
    FileNotFoundError
        If the stored file is missing.
    """
    pixels, results = _analysis(row["sha256"], str(get_catalog().image_path(row)))
    ids, z, points = _robust_z_table(version())
    return image_report(row, pixels, results, weights, ids, z, points=points)


@st.cache_resource(max_entries=3, show_spinner=False)
def _id_index(version_: tuple[str, int], weights: tuple[tuple[str, float], ...]) -> pd.Index:
    return pd.Index(_ranked_table(version_, weights)["id"].to_numpy())


def rows_by_id(weights: dict[str, float], ids: list[int]) -> pd.DataFrame:
    """The rows of :func:`ranked_table` with these catalog ids, in the order given (ids not in it are left
    out); looked up in an index of the ids, made once per ranking, not by a scan of every row."""
    table = ranked_table(weights)
    ids = [i for i in ids if i in ID_RANGE]
    positions = _id_index(version(), _weights_key(weights)).get_indexer(np.asarray(ids, dtype=np.int64))
    return table.iloc[positions[positions >= 0]]


def ring_position(weights: dict[str, float], figure: go.Figure, image_id: int, x: str,
                  y: str) -> tuple[float, float] | None:
    """Where to ring image `image_id` in the scatter `figure` of `x` against `y`: where its point is
    drawn, else (a point left out by the thinning) at its values; None if it has no finite values."""
    row = rows_by_id(weights, [image_id])
    drawn = None if row.empty else plots.shown_position(figure, image_id)
    if drawn is not None:
        return drawn
    if row.empty or not np.isfinite(row[[x, y]].to_numpy(dtype=float)).all():
        return None
    return float(row[x].iloc[0]), float(row[y].iloc[0])


#: Grid (x cells, y cells) over the plotted range: a cell is about one marker (8 px) of the scatter at
#: common screen widths, so one drawn point per cell hides nothing a person could see or click at the
#: full view, while the browser draws a few thousand points instead of 100,000 (each click redraws them).
SCATTER_GRID = (100, 70)


# cache_resource: the page only counts these rows and the figure is built from them once per figure, so
# cache_data's copy on every rerun (of the whole ranked table, when nothing is thinned) would buy nothing.
@st.cache_resource(max_entries=8, show_spinner=False)
def _scatter_points(version_: tuple[str, int], weights: tuple[tuple[str, float], ...], x: str,
                    y: str) -> pd.DataFrame:
    return thin_for_display(_ranked_table(version_, weights), x, y, int(config.get("scatter_thin_above")))


def scatter_points(weights: dict[str, float], x: str, y: str) -> pd.DataFrame:
    """The rows the Explore scatter of `x` against `y` draws: all of them for a small catalog, else one per
    grid cell.

    Above the setting ``scatter_thin_above`` the browser would spend seconds drawing points hidden
    under others, so only one point of each :data:`SCATTER_GRID` cell is kept (see
    :func:`thin_for_display`).  Shared between reruns and sessions: never modify it.
    """
    return _scatter_points(version(), _weights_key(weights), x, y)


def thin_for_display(table: pd.DataFrame, x: str, y: str, above: int,
                     grid: tuple[int, int] = SCATTER_GRID) -> pd.DataFrame:
    """`table` if it has at most `above` rows; else one row per grid cell over the `x`-`y` range.

    The row kept in a cell is its first outlier if it holds any, else its first row (tables are
    ranked, so the best-ranked).  Rows without a finite `x` and `y` are left out (a plot cannot show
    them either).
    """
    if len(table) <= above:
        return table
    xs, ys = table[x].to_numpy(dtype=float), table[y].to_numpy(dtype=float)
    finite = np.isfinite(xs) & np.isfinite(ys)
    if not finite.any():
        return table.iloc[:0]
    rows = np.flatnonzero(finite)
    cells, _ = plots.grid_cells(xs[finite], ys[finite], grid)
    regular = ~table["outlier"].to_numpy(dtype=bool)[rows]
    order = np.lexsort((rows, regular, cells))  # by cell, outliers first, then table order
    first = order[np.r_[True, cells[order][1:] != cells[order][:-1]]]
    return table.iloc[np.sort(rows[first])]


# cache_resource: the figure is only read (serialised) by the chart, and building its hover texts for
# thousands of points costs a few tenths of a second on every open otherwise.
@st.cache_resource(max_entries=4, show_spinner=False)
def _scatter_figure(version_: tuple[str, int], weights: tuple[tuple[str, float], ...], x: str, y: str,
                    colour: str, labels_revision_: int) -> go.Figure:
    drawn = _with_shown_labels(_scatter_points(version_, weights, x, y), colour, version_, labels_revision_)
    return plots.scatter(drawn, x, y, colour, column_labels(), zoom_key=f"{x} {y}",
                         missing="not reviewed" if colour == "label" else "not set")


def _with_shown_labels(drawn: pd.DataFrame, colour: str, version_: tuple[str, int],
                       labels_revision_: int) -> pd.DataFrame:
    """`drawn` with each row's label as shown, when the points are coloured by label."""
    if colour != "label":
        return drawn
    named = marsviz_labels.with_labels(drawn[["id"]], _labels(version_[0], labels_revision_))["label"]
    return drawn.assign(label=named.map(lambda v: None if v is None else marsviz_labels.shown(v)))


@st.cache_resource(max_entries=2, show_spinner=False)
def _placed(version_: tuple[str, int], weights: tuple[tuple[str, float], ...]) -> pd.DataFrame:
    table = _ranked_table(version_, weights)
    return table[table["latitude"].notna() & table["longitude"].notna()]


def placed_rows(weights: dict[str, float]) -> pd.DataFrame:
    """The rows of :func:`ranked_table` whose centre latitude and longitude are known, in rank order.
    Shared between reruns and sessions: never modify it."""
    return _placed(version(), _weights_key(weights))


@st.cache_resource(max_entries=4, show_spinner=False)
def _map_figure(version_: tuple[str, int], weights: tuple[tuple[str, float], ...], colour: str,
                labels_revision_: int) -> go.Figure:
    merged = plots.merged_places(_placed(version_, weights), "longitude", "latitude")
    drawn = thin_for_display(merged, "longitude", "latitude", int(config.get("scatter_thin_above")))
    drawn = _with_shown_labels(drawn, colour, version_, labels_revision_)
    return plots.mars_map(drawn, colour, column_labels(), missing="not reviewed" if colour == "label" else "not set")


def ids_at_same_places(weights: dict[str, float], ids: list[int]) -> list[int]:
    """The ids of every placed image at the place of one of `ids` (a merged map point stands for them all),
    sorted; `ids` themselves when none of them is placed."""
    chosen = rows_by_id(weights, ids)
    placed = placed_rows(weights)
    if chosen.empty or placed.empty:
        return sorted(ids)
    same = np.isin(_place_keys(placed), _place_keys(chosen))
    return sorted(set(placed["id"].to_numpy()[same].astype(int).tolist()) | set(ids))


def _place_keys(rows: pd.DataFrame) -> np.ndarray:
    """Each row's longitude and latitude as one complex number, so that places compare in one vectorised step."""
    return rows["longitude"].to_numpy(dtype=float) + 1j * rows["latitude"].to_numpy(dtype=float)


def map_figure(weights: dict[str, float], colour: str) -> go.Figure:
    """The Map page's figure (:func:`marsviz.plots.mars_map`) of :func:`placed_rows`, coloured by `colour`;
    the images of one place merged into one point (:func:`ids_at_same_places` lists them), thinned like the
    Explore scatter; made once per catalog revision, weights and colour, and shared."""
    return _map_figure(version(), _weights_key(weights), colour, labels_revision() if colour == "label" else 0)


def scatter_figure(weights: dict[str, float], x: str, y: str, colour: str) -> go.Figure:
    """The Explore scatter (:func:`marsviz.plots.scatter`) of :func:`scatter_points`, coloured by `colour`
    (a column, or ``"label"``: the person's labels); made once per catalog revision, weights, axes and
    colour (and label revision, for ``"label"``), and shared: never modify it."""
    return _scatter_figure(version(), _weights_key(weights), x, y, colour,
                           labels_revision() if colour == "label" else 0)


@st.cache_resource(max_entries=3, show_spinner=False)
def _search_index(version_: tuple[str, int], weights: tuple[tuple[str, float], ...]) -> pa.Array:
    return query.search_index(_ranked_table(version_, weights))


# cache_resource: positions are read-only and a million of them would be copied on every rerun otherwise.
@st.cache_resource(max_entries=16, show_spinner="Searching...")
def _selected(version_: tuple[str, int], weights: tuple[tuple[str, float], ...], asked: query.RankingQuery,
              labels_revision_: int) -> np.ndarray:
    index = _search_index(version_, weights) if asked.search else None
    row_labels = _row_labels(version_, weights, labels_revision_) if _uses_labels(asked) else None
    orders = ({query.NEW_TO_YOU: _novelty_places(version_, weights, labels_revision_)}
              if asked.sort == query.NEW_TO_YOU else None)
    return query.select(_ranked_table(version_, weights), asked, index, row_labels, orders)


def _uses_labels(asked: query.RankingQuery) -> bool:
    return asked.reviewed is not None or bool(asked.label) or asked.sort == query.NEW_TO_YOU


def selected_rows(weights: dict[str, float], asked: query.RankingQuery) -> np.ndarray:
    """Positions in :func:`ranked_table` of the rows that pass `asked`, in its order, over the whole catalog
    (:func:`marsviz.query.select`); cached per catalog revision, weights and query (and labels, when the
    query filters or sorts by them)."""
    return _selected(version(), _weights_key(weights), asked, labels_revision() if _uses_labels(asked) else 0)


# -- labels: cached apart from the catalog's images, so that labeling does not rebuild the ranking ---------
def labels_revision() -> int:
    """The catalog's label revision (:meth:`marsviz.catalog.Catalog.labels_revision`): the key of label caches."""
    return get_catalog().labels_revision()


@st.cache_data(max_entries=4, show_spinner=False)
def _labels(home: str, labels_revision_: int) -> pd.DataFrame:
    return _catalog_at(home, read_only()).labels()


def labels() -> pd.DataFrame:
    """Every current label (:meth:`marsviz.catalog.Catalog.labels`), read once per label revision."""
    return _labels(str(get_catalog().home), labels_revision())


@st.cache_resource(max_entries=2, show_spinner=False)
def _row_labels(version_: tuple[str, int], weights: tuple[tuple[str, float], ...],
                labels_revision_: int) -> pd.Series:
    return query.labels_of_rows(_id_index(version_, weights), _labels(version_[0], labels_revision_))


# -- New to you (marsviz.novelty): the reviewed images' model once per label change; every image's novelty only
# when the ranking is sorted by it.
@st.cache_resource(max_entries=2, show_spinner=False)
def _reviewed_model(version_: tuple[str, int], labels_revision_: int) -> novelty.ReviewedModel:
    reviewed = _labels(version_[0], labels_revision_)["id"].tolist()
    return novelty.catalog_reviewed_model(_catalog_at(version_[0], read_only()), reviewed,
                                          novelty.descriptor_standardisation())


def reviewed_model() -> novelty.ReviewedModel:
    """The low-rank model of the reviewed images' descriptors that "New to you" measures against."""
    return _reviewed_model(version(), labels_revision())


@st.cache_resource(max_entries=2, show_spinner="Finding what is new to you...")
def _novelty_places(version_: tuple[str, int], weights: tuple[tuple[str, float], ...],
                    labels_revision_: int) -> np.ndarray:
    ids, values = novelty.catalog_novelty(_catalog_at(version_[0], read_only()),
                                          _reviewed_model(version_, labels_revision_))
    aligned = np.full(len(_ranked_table(version_, weights)), np.nan)
    positions = _id_index(version_, weights).get_indexer(ids)
    aligned[positions[positions >= 0]] = values[positions >= 0]
    return novelty.novelty_order(aligned)


def why_new(image_id: int) -> tuple[float, list[tuple[str, float]]] | None:
    """How far image `image_id` is from what was reviewed (root mean square residual, in standard deviations
    of the descriptors) and the descriptors (as people read them) it differs most in; None without descriptors."""
    found = list(get_catalog().descriptor_chunks(ids=[image_id]))
    if not found:
        return None
    model, vector = reviewed_model(), found[0][1][0]
    return float(model.novelty(vector[None])[0]), [
        (VIEW_DESCRIPTOR_LABELS[name], residual) for name, residual in model.why(vector, VIEW_DESCRIPTOR_NAMES)]


@st.cache_data(max_entries=2, show_spinner=False)
def _label_model(version_: tuple[str, int]) -> LabelModel | None:
    return latest_model(_catalog_at(version_[0], read_only()))


def label_model() -> LabelModel | None:
    """The latest "Your labels, trained" fit (:func:`marsviz.learn.latest_model`), or None; read once per
    catalog revision (a fit is a catalog write)."""
    return _label_model(version())


def with_labels(rows: pd.DataFrame, readable: bool = False) -> pd.DataFrame:
    """A copy of `rows` (catalog rows with an ``id``) with each image's label, note, who and when (None where
    unlabeled); with `readable`, for a table: labels as people read them ("not interesting", not
    "not_interesting"), empty where unlabeled."""
    out = marsviz_labels.with_labels(rows, labels())
    if readable:
        for column in marsviz_labels.LABEL_COLUMNS:
            out[column] = out[column].fillna("")
        out["label"] = out["label"].map(marsviz_labels.shown)
    return out


def with_thumbnails(rows: pd.DataFrame, column: str = "thumbnail") -> pd.DataFrame:
    """A copy of `rows` (a page of a ranked table) with each stored thumbnail as a ``data:`` URI in `column`
    (None where the thumbnail file is missing), for an image column of a table."""
    catalog = get_catalog()

    def uri(row: dict) -> str | None:
        path = catalog.thumbnail_path(row)
        return "data:image/jpeg;base64," + base64.b64encode(path.read_bytes()).decode() if path.exists() else None

    out = rows.copy()
    out[column] = [uri(row) for row in rows.to_dict(orient="records")]
    return out


def export(writer: Callable[[pd.DataFrame], bytes], table: pd.DataFrame, positions: np.ndarray) -> bytes:
    """The rows of `table` at `positions`, with their labels, written by `writer` (:func:`marsviz.query.to_csv`,
    ``to_parquet``): a download button's deferred data, so the file is made only when asked for."""
    return writer(with_labels(table.iloc[positions]))


#: Side of a gallery or neighbour tile, in pixels: every tile is this square, so the buttons under a row
#: of tiles line up whatever the images' shapes.
TILE_SIDE = 160


@st.cache_data(max_entries=512, show_spinner=False)
def _tile(path: str, side: int) -> bytes | None:
    try:
        with Image.open(path) as thumbnail:
            tile = ImageOps.pad(thumbnail.convert("RGB"), (side, side), color=(14, 17, 23))
    except (OSError, ValueError):
        return None
    out = io.BytesIO()
    tile.save(out, format="JPEG", quality=85)
    return out.getvalue()


def tile(row: dict, side: int = TILE_SIDE) -> bytes | None:
    """The stored thumbnail of catalog row `row` letterboxed into a `side`-pixel square JPEG; None if the
    thumbnail is missing or unreadable."""
    return _tile(str(get_catalog().thumbnail_path(row)), side)


def column_labels() -> dict[str, str]:
    """Human labels for the columns the pages show."""
    return {**feature_labels(), "score": "Composite score",
            "outlier_score": "Outlier score", "projection_1": "Projection 1", "projection_2": "Projection 2",
            "view": "Shows (view)", "mission": "Mission", "instrument": "Instrument / camera", "source": "Source",
            "label": "Your label", LEARNED_SCORE: LEARNED_LABEL, "product_id": "Product id",
            "latitude": "Latitude (°)", "longitude": "Longitude (°E)", "scale_m_per_px": "Scale (m/px)",
            "location_from": "Place from", "observed_at": "Taken (UTC)", "solar_longitude": "Solar longitude Ls (°)",
            "mars_year": "Mars year", "season": "Season"}

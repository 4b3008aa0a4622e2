"""Plotly figures of the catalog (built here, rendered by the app)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

#: Above this many points the scatter uses WebGL, which stays smooth with 100,000 points.
WEBGL_THRESHOLD = 2000
#: Colours of the view's categories; other categorical columns take :data:`PALETTE` in order of size.
CATEGORY_COLOURS = {"orbital": "#1f77b4", "surface": "#d9822b", "hardware": "#7f7f7f", "other": "#9467bd"}
PALETTE = ("#1f77b4", "#d9822b", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22",
           "#393b79", "#637939", "#ad494a")
MISSING_COLOUR = "#cccccc"
#: Markers of the scatter's points: outliers are larger circles outlined in red.  Circles only: WebGL
#: draws any other symbol from a glyph it first renders, which took 0.45 s of a 3.6 s first draw.
REGULAR_MARKER = dict(symbol="circle", size=8)
OUTLIER_MARKER = dict(symbol="circle", size=12, line=dict(width=2, color="#ff4b4b"))
#: Column of a table given to :func:`scatter` with how many images each of its points stands for
#: (:func:`merged_places`); a point for several is drawn larger and says so on hover.
IMAGES_HERE = "images_here"
#: How many of those are outliers (:func:`merged_places`).
OUTLIERS_HERE = "outliers_here"
#: Largest marker size, in px, of a point that stands for many images.
LARGEST_MARKER = 30
#: Grid (cells across, cells up) of :func:`spread_overlaps`: a cell is about one marker (8 px) of a
#: 600 x 560 px plot.
OVERLAP_GRID = (80, 70)


def category_colours(values: pd.Series) -> dict[str, str]:
    """A colour per category of a categorical column, largest category first; missing values are left out.

    The view's categories keep :data:`CATEGORY_COLOURS`; others take :data:`PALETTE` in turn, and
    categories past its end share the last colour.

    Examples
    --------
    >>> category_colours(pd.Series(["orbital", None, "surface", "surface"]))
    {'surface': '#d9822b', 'orbital': '#1f77b4'}
    >>> category_colours(pd.Series(["MSL", "MRO", "MSL"]))
    {'MSL': '#1f77b4', 'MRO': '#d9822b'}
    >>> category_colours(pd.Series(["MSL", "MRO"], dtype="category")[:1])  # only the categories present
    {'MSL': '#1f77b4'}
    """
    values = values.astype(object)  # a categorical's value counts would list categories absent here
    present = values[values.map(lambda v: isinstance(v, str) and v != "")].value_counts()
    if set(present.index) <= set(CATEGORY_COLOURS):
        return {name: CATEGORY_COLOURS[name] for name in present.index}
    return {name: PALETTE[min(i, len(PALETTE) - 1)] for i, name in enumerate(present.index)}


def grid_cells(x: np.ndarray, y: np.ndarray, grid: tuple[int, int]) -> tuple[np.ndarray, tuple[float, float]]:
    """The cell of each point on a `grid` (cells across, cells up) laid over the points' own range.

    Parameters
    ----------
    x, y : ndarray
        Finite coordinates of the points.
    grid : (int, int)
        Cells along x and along y; points on the upper edge fall in the last cell.

    Returns
    -------
    cells : ndarray of int64
        One cell number per point (equal numbers: the same cell).
    steps : (float, float)
        The width and height of a cell, in the units of `x` and `y`.

    Examples
    --------
    >>> cells, steps = grid_cells(np.array([0.0, 0.1, 1.0]), np.array([0.0, 0.0, 1.0]), (2, 2))
    >>> cells.tolist(), steps
    ([0, 0, 3], (0.5, 0.5))
    """
    numbers, steps = [], []
    for values, count in ((x, grid[0]), (y, grid[1])):
        low, high = values.min(), values.max()
        span = high - low if high > low else 1.0
        numbers.append(np.minimum(((values - low) / span * count).astype(np.int64), count - 1))
        steps.append(float(span / count))
    return numbers[0] * grid[1] + numbers[1], (steps[0], steps[1])


def spread_overlaps(x: np.ndarray, y: np.ndarray,
                    grid: tuple[int, int] = OVERLAP_GRID) -> tuple[np.ndarray, np.ndarray]:
    """Positions to draw points at, so that points on the same spot can each be seen and clicked.

    Points that share a cell of a `grid` over the plotted range (:func:`grid_cells`: about one marker
    apart or closer) are set on a small sunflower spiral around the cell's first point, about one cell
    apart; every other point keeps its position.  Non-finite values are returned as they are.

    Examples
    --------
    >>> x, y = spread_overlaps(np.array([0.0, 0.5, 0.5, 1.0]), np.array([0.0, 0.5, 0.5, 1.0]))
    >>> bool(x[1] != x[2] or y[1] != y[2]), (float(x[0]), float(x[3]))
    (True, (0.0, 1.0))
    """
    x, y = np.asarray(x, dtype=float).copy(), np.asarray(y, dtype=float).copy()
    finite = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
    if len(finite) < 2:
        return x, y
    cells, steps = grid_cells(x[finite], y[finite], grid)
    order = np.argsort(cells, kind="stable")
    sorted_cells = cells[order]
    starts = np.r_[0, np.flatnonzero(sorted_cells[1:] != sorted_cells[:-1]) + 1]
    group_start = np.repeat(starts, np.diff(np.r_[starts, len(order)]))  # per sorted point, its cell's first
    within = np.arange(len(order)) - group_start
    moved = within > 0
    if not moved.any():
        return x, y
    first = finite[order[group_start]]
    turn = within[moved] * 2.39996  # the golden angle, in radians
    radius = np.sqrt(within[moved])
    rows = finite[order[moved]]
    x[rows] = x[first[moved]] + steps[0] * radius * np.cos(turn)
    y[rows] = y[first[moved]] + steps[1] * radius * np.sin(turn)
    return x, y


def merged_places(table: pd.DataFrame, x: str, y: str) -> pd.DataFrame:
    """`table` with the rows that share a place merged: one point per place instead of a fan of them.

    Rows with the same `x` and `y` (a rover's frames, all at its landing site) become their first row
    (tables are ranked, so the best-ranked image, the one a click opens), with :data:`IMAGES_HERE` their
    count, :data:`OUTLIERS_HERE` how many of them are outliers, and ``outlier`` true if any is one.

    Parameters
    ----------
    table : DataFrame
        In rank order, with columns `x`, `y` and ``outlier``.
    x, y : str
        The columns that give the place.

    Returns
    -------
    DataFrame
        The first row of each place, in the order of `table`, with :data:`IMAGES_HERE` and
        :data:`OUTLIERS_HERE` added.

    Examples
    --------
    >>> table = pd.DataFrame({"id": [1, 2, 3], "outlier": [False, False, True],
    ...                       "x": [5.0, 0.0, 5.0], "y": [1.0, 0.0, 1.0]})
    >>> merged_places(table, "x", "y")[["id", "outlier", IMAGES_HERE, OUTLIERS_HERE]].values.tolist()
    [[1, True, 2, 1], [2, False, 1, 0]]
    """
    if table.empty:
        return table.assign(**{IMAGES_HERE: pd.Series(dtype=np.int64), OUTLIERS_HERE: pd.Series(dtype=np.int64)})
    place = table.groupby([x, y], sort=False, dropna=False).ngroup().to_numpy()
    _, first = np.unique(place, return_index=True)
    first = np.sort(first)
    counts = np.bincount(place)
    outliers = np.bincount(place, weights=table["outlier"].to_numpy(dtype=float)).astype(np.int64)
    merged = table.iloc[first].copy()
    merged["outlier"] = outliers[place[first]] > 0
    merged[IMAGES_HERE] = counts[place[first]]
    merged[OUTLIERS_HERE] = outliers[place[first]]
    return merged


def scatter(table: pd.DataFrame, x: str, y: str, colour: str, labels: dict[str, str],
            zoom_key: str = "keep", missing: str = "not set") -> go.Figure:
    """Scatter of the catalog with outliers marked.

    The figure does not depend on which image is open (:func:`shown_position` says where to ring it), so
    a chart drawn from it keeps its identity, zoom and clicks while images are opened.

    Parameters
    ----------
    table : DataFrame
        Needs columns ``id``, ``name``, ``outlier``, `x`, `y` and `colour`.
    x, y : str
        Numeric columns for the axes.
    colour : str
        Column the points are coloured by: a numeric one on a colour scale (its bar under the plot), a
        categorical one (view, mission, ...) with one legend entry per category.
    labels : dict of str to str
        Human labels for column names.
    zoom_key : str, optional
        Plotly's ``uirevision``: a chart given a new figure with the same key keeps the user's zoom and
        pan (give axes of other columns another key).
    missing : str, optional
        Legend name of the points without a value of a categorical `colour`.

    Returns
    -------
    Figure
        Every point carries its catalog id as ``customdata`` (Plotly point numbers restart per trace)
        and its name as ``text``; points on one spot are drawn apart (:func:`spread_overlaps`), and
        the hover gives the true values.  A table with an :data:`IMAGES_HERE` column (:func:`merged_places`)
        has its points for several images drawn larger, their hover saying how many.
    """
    trace = go.Scattergl if len(table) > WEBGL_THRESHOLD else go.Scatter
    shown_x, shown_y = spread_overlaps(table[x].to_numpy(dtype=float), table[y].to_numpy(dtype=float))
    drawn = table.assign(_x=shown_x, _y=shown_y)
    x_label, y_label = labels.get(x, x), labels.get(y, y)
    figure = go.Figure()

    def add(part: pd.DataFrame, outliers: bool, marker: dict, **trace_options) -> None:
        style = OUTLIER_MARKER if outliers else REGULAR_MARKER
        counts = part[IMAGES_HERE].to_numpy() if IMAGES_HERE in part else np.ones(len(part), dtype=int)
        marked = part[OUTLIERS_HERE].to_numpy() if OUTLIERS_HERE in part else part["outlier"].to_numpy(dtype=int)
        hover = [f"{n}<br>{x_label} = {a:.3f}<br>{y_label} = {b:.3f}" + _how_many(c, o)
                 for n, a, b, c, o in zip(part["name"], part[x], part[y], counts, marked)]
        if (counts > 1).any():
            marker = {**marker, "size": np.minimum(style["size"] + 4 * np.log2(counts), LARGEST_MARKER).tolist()}
        figure.add_trace(trace(
            x=part["_x"], y=part["_y"], mode="markers", customdata=part["id"].astype(int).tolist(),
            text=part["name"].tolist(), hovertext=hover, hovertemplate="%{hovertext}<extra></extra>",
            marker={**style, **marker}, **trace_options))

    outlier = drawn["outlier"].to_numpy(dtype=bool)
    if pd.api.types.is_numeric_dtype(table[colour]):
        low, high = _range(table[colour])
        # The legend counts images: a point for several (merged_places) may hold outliers and others.
        outliers = int(drawn[OUTLIERS_HERE].sum()) if OUTLIERS_HERE in drawn else int(outlier.sum())
        counted = {"images": _images(drawn) - outliers, "outliers": outliers}
        for part, name in ((drawn[~outlier], "images"), (drawn[outlier], "outliers")):
            add(part, name == "outliers", name=f"{name} ({counted[name]})", marker=dict(
                color=part[colour], colorscale="Viridis", cmin=low, cmax=high, showscale=name == "images",
                colorbar=dict(title=dict(text=labels.get(colour, colour), side="top"), orientation="h",
                              thickness=10, len=0.6, x=0.5, xanchor="center", y=-0.14, yanchor="top")))
    else:
        colours = category_colours(drawn[colour])
        known = drawn[colour].isin(list(colours)).to_numpy()
        groups = [(name, (drawn[colour] == name).to_numpy(), chosen) for name, chosen in colours.items()]
        if (~known).any():
            groups.append((missing, ~known, MISSING_COLOUR))
        # Outliers after every category, so that they are drawn on top; each in its category's legend
        # group, so a click on the legend hides a category with its outliers.
        for in_outliers in (False, True):
            for name, members, chosen in groups:
                part = drawn[members & (outlier == in_outliers)]
                if in_outliers and part.empty:
                    continue
                add(part, in_outliers, dict(color=chosen), name=f"{name} ({_images(drawn[members])})",
                    legendgroup=name, showlegend=not in_outliers)
    figure.update_layout(xaxis_title=x_label, yaxis_title=y_label, height=560,
                         margin=dict(l=10, r=10, t=40, b=10),
                         legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0, xanchor="left"),
                         modebar=dict(orientation="v"), uirevision=zoom_key)
    return figure


#: Degrees between the map's graticule lines.
GRATICULE_DEGREES = 30


def mars_map(table: pd.DataFrame, colour: str, labels: dict[str, str], missing: str = "not set") -> go.Figure:
    """:func:`scatter` of images at their centre on a longitude-latitude graticule of Mars (simple
    cylindrical: degrees east 0-360 across, planetocentric latitude up), one degree as wide as tall.

    Parameters
    ----------
    table : DataFrame
        As for :func:`scatter`, with ``longitude`` (degrees east, 0-360) and ``latitude`` known in every row;
        rows of one place merged (:func:`merged_places`) are drawn as one larger point.
    colour, labels, missing
        As for :func:`scatter`.
    """
    figure = scatter(table, "longitude", "latitude", colour, labels, zoom_key="map", missing=missing)
    # constrain="domain": the equal scale shrinks the drawing area instead of widening the ranges.
    axis = dict(dtick=GRATICULE_DEGREES, showgrid=True, gridcolor="#d0d0d0", zeroline=False, showline=True,
                linecolor="#888888", mirror=True, constrain="domain", title=None)
    # A margin of a few degrees, so a point at 0°E or on a pole is drawn whole.
    figure.update_xaxes(range=[-4, 364], tick0=0, ticksuffix="°E", **axis)
    figure.update_yaxes(range=[-94, 94], tick0=0, ticksuffix="°", scaleanchor="x", scaleratio=1, **axis)
    figure.update_layout(height=420, plot_bgcolor="#f4efe9")
    return figure


def shown_position(figure: go.Figure, image_id: int) -> tuple[float, float] | None:
    """Where :func:`scatter` drew image `image_id` (its point moved apart from others on the same spot),
    in data coordinates; None if the figure has no point for it.

    Examples
    --------
    >>> table = pd.DataFrame({"id": [1, 2], "name": ["a", "b"], "outlier": [False, True],
    ...                       "x": [0.0, 1.0], "y": [2.0, 3.0]})
    >>> figure = scatter(table, "x", "y", "x", {})
    >>> shown_position(figure, 2), shown_position(figure, 9)
    ((1.0, 3.0), None)
    """
    for trace in figure.data:
        at = np.flatnonzero(np.asarray(trace.customdata if trace.customdata is not None else []) == image_id)
        if len(at):
            return float(trace.x[at[0]]), float(trace.y[at[0]])
    return None


def _how_many(images: int, outliers: int) -> str:
    """The hover's last line for a point standing for `images` images, `outliers` of them outliers.

    Examples
    --------
    >>> _how_many(1, 1), _how_many(27, 0)
    ('<br><b>outlier</b>', '<br><b>27 images here</b>: click to list them')
    >>> _how_many(3, 1)
    '<br><b>3 images here</b> (1 outlier): click to list them'
    """
    if images == 1:
        return "<br><b>outlier</b>" if outliers else ""
    marked = f" ({outliers:,} outlier{'' if outliers == 1 else 's'})" if outliers else ""
    return f"<br><b>{images:,} images here</b>{marked}: click to list them"


def _images(points: pd.DataFrame) -> int:
    """How many images `points` stand for (:data:`IMAGES_HERE`, else one each)."""
    return int(points[IMAGES_HERE].sum()) if IMAGES_HERE in points else len(points)


def _range(values: pd.Series) -> tuple[float, float]:
    finite = values.to_numpy(dtype=float)
    finite = finite[np.isfinite(finite)]
    if finite.size == 0:
        return 0.0, 1.0
    low, high = float(finite.min()), float(finite.max())
    if high - low <= 1e-9 * max(1.0, abs(low)):  # one value: a readable scale around it
        return low - 0.5, high + 0.5
    return low, high


def reliability(tables: dict[str, dict], labels: dict[str, str]) -> go.Figure:
    """Reliability diagram: mean predicted probability against observed frequency, one line per score.

    Parameters
    ----------
    tables : dict of str to dict
        Per score, :func:`marsviz.train.reliability`'s result (``ece`` and ``bins``).
    labels : dict of str to str
        Human labels for score names.

    Returns
    -------
    Figure
        The diagonal is perfect calibration; marker size grows with the crops in a bin.
    """
    figure = go.Figure()
    figure.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="perfectly calibrated",
                                line=dict(color="#999999", dash="dot"), hoverinfo="skip"))
    for score, table in tables.items():
        bins = pd.DataFrame(table["bins"])
        figure.add_trace(go.Scatter(
            x=bins["mean_probability"], y=bins["observed"], mode="lines+markers",
            name=f"{labels.get(score, score)} (ECE {table['ece']:.3f})",
            customdata=bins["n"], hovertemplate="predicted %{x:.3f}<br>observed %{y:.3f}<br>%{customdata} crops"
                                                "<extra></extra>",
            marker=dict(size=np.clip(4 + 3 * np.log10(bins["n"].clip(lower=1)), 4, 16))))
    figure.update_layout(xaxis_title="predicted probability (mean over the bin)", yaxis_title="observed share",
                         xaxis=dict(range=[0, 1]), yaxis=dict(range=[0, 1]), height=380,
                         margin=dict(l=10, r=10, t=30, b=10),
                         legend=dict(orientation="h", yanchor="top", y=-0.2, x=0))
    return figure

"""Plotly figures of the catalog (built here, rendered by the app)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

#: Above this many points the scatter uses WebGL, which stays smooth with 100,000 points.
WEBGL_THRESHOLD = 2000
#: Colours of the categories of a categorical colour column (the view), and of a missing category.
CATEGORY_COLOURS = {"orbital": "#1f77b4", "surface": "#d9822b", "hardware": "#7f7f7f", "other": "#9467bd"}
MISSING_COLOUR = "#cccccc"


def category_colours(values: pd.Series) -> list[str]:
    """A colour per value of a categorical column (:data:`CATEGORY_COLOURS`; grey where missing or unknown).

    Examples
    --------
    >>> category_colours(pd.Series(["orbital", None, "surface"]))
    ['#1f77b4', '#cccccc', '#d9822b']
    """
    return [CATEGORY_COLOURS.get(v, MISSING_COLOUR) if isinstance(v, str) else MISSING_COLOUR for v in values]


def scatter(table: pd.DataFrame, x: str, y: str, colour: str, labels: dict[str, str],
            selected_id: int | None = None) -> go.Figure:
    """Scatter of the catalog with outliers marked and the selected image highlighted.

    Parameters
    ----------
    table : DataFrame
        Needs columns ``id``, ``name``, ``outlier``, `x`, `y` and `colour`.
    x, y, colour : str
        Column names for the axes and the colour scale.
    labels : dict of str to str
        Human labels for column names.
    selected_id : int, optional
        Image to highlight.

    Returns
    -------
    Figure
        Every point carries its catalog id as ``customdata`` (Plotly point numbers restart per trace).
    """
    trace = go.Scattergl if len(table) > WEBGL_THRESHOLD else go.Scatter
    figure = go.Figure()
    regular = table[~table["outlier"]]
    outliers = table[table["outlier"]]
    categorical = not pd.api.types.is_numeric_dtype(table[colour])
    colour_range = None if categorical else _range(table[colour])
    for part, name, symbol, size, line in [(regular, "images", "circle", 8, 0),
                                           (outliers, "outliers", "diamond", 12, 2)]:
        if categorical:
            marker_colour = dict(color=category_colours(part[colour]))
        else:
            marker_colour = dict(color=part[colour], colorscale="Viridis", cmin=colour_range[0],
                                 cmax=colour_range[1], showscale=name == "images",
                                 colorbar=dict(title=dict(text=labels.get(colour, colour))))
        figure.add_trace(trace(
            x=part[x], y=part[y], mode="markers", name=f"{name} ({len(part)})",
            customdata=part["id"].astype(int).tolist(), text=part["name"].tolist(),
            hovertemplate=f"%{{text}}<br>{labels.get(x, x)}=%{{x:.3f}}<br>{labels.get(y, y)}=%{{y:.3f}}"
                          "<extra></extra>",
            marker=dict(symbol=symbol, size=size, line=dict(width=line, color="#ff4b4b"), **marker_colour),
        ))
    if selected_id is not None and (table["id"] == selected_id).any():
        chosen = table[table["id"] == selected_id]
        figure.add_trace(trace(x=chosen[x], y=chosen[y], mode="markers", name="selected",
                               customdata=chosen["id"].astype(int).tolist(), text=chosen["name"].tolist(), hoverinfo="skip",
                               marker=dict(size=22, color="rgba(0,0,0,0)", line=dict(width=3, color="#111111"))))
    figure.update_layout(xaxis_title=labels.get(x, x), yaxis_title=labels.get(y, y), height=560,
                         margin=dict(l=10, r=10, t=30, b=10),
                         legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0), uirevision="keep")
    return figure


def _range(values: pd.Series) -> tuple[float, float]:
    finite = values.to_numpy(dtype=float)
    finite = finite[np.isfinite(finite)]
    if finite.size == 0:
        return 0.0, 1.0
    return float(finite.min()), float(max(finite.max(), finite.min() + 1e-9))


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

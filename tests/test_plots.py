"""marsviz.plots.scatter: every image drawn once, outliers marked, one legend entry per category."""

import numpy as np
import pandas as pd
import pytest

from marsviz import plots


def _table(n, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"id": np.arange(1, n + 1), "name": [f"image {i}" for i in range(n)],
                         "x": rng.normal(size=n), "y": rng.normal(size=n), "score": rng.random(n),
                         "outlier": rng.random(n) < 0.1,
                         "view": rng.choice(["orbital", "surface", "hardware", None], size=n)})


@pytest.mark.parametrize("n", [300, plots.WEBGL_THRESHOLD + 500])  # SVG and WebGL
@pytest.mark.parametrize("colour", ["score", "view"])
def test_each_image_is_one_point_with_its_id_and_outliers_have_their_own_marker(n, colour):
    table = _table(n)
    figure = plots.scatter(table, "x", "y", colour, {})
    ids = np.concatenate([np.asarray(trace.customdata) for trace in figure.data])
    assert sorted(ids.tolist()) == table["id"].tolist()
    outliers = set(table.loc[table["outlier"], "id"])
    for trace in figure.data:
        marked = {i in outliers for i in trace.customdata}
        assert len(marked) <= 1  # a trace holds outliers only or regular images only
        expected = plots.OUTLIER_MARKER if marked == {True} else plots.REGULAR_MARKER
        assert trace.marker.symbol == expected["symbol"] and trace.marker.size == expected["size"]
        assert all(("<b>outlier</b>" in text) == (i in outliers) for i, text in zip(trace.customdata, trace.hovertext))


def test_a_categorical_colour_has_one_legend_entry_per_category_whose_outliers_follow_it():
    table = _table(400)
    figure = plots.scatter(table, "x", "y", "view", {})
    shown = [trace.name for trace in figure.data if trace.showlegend is not False]
    counts = table["view"].fillna("not set").value_counts()
    assert sorted(shown) == sorted(f"{name} ({count})" for name, count in counts.items())
    outlier_traces = [trace for trace in figure.data if trace.showlegend is False]
    assert outlier_traces and figure.data[-len(outlier_traces):] == tuple(outlier_traces)  # drawn on top
    assert {trace.legendgroup for trace in outlier_traces} <= set(counts.index)

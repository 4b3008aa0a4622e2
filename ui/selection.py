"""Opening an image from a click in a chart or a table, as a widget callback.

A callback runs before the page script, so the run that handles a click already shows the image it
opened.  A callback also fires only when the selection changes, so an old selection that stays in a
widget's state never reopens its image over a newer choice (a neighbour's Open, a deep link).
"""

from __future__ import annotations

from functools import partial
from typing import Callable

import streamlit as st

from ui import data
from ui.viewer import open_image

#: Widget key of the Explore scatter, and session-state key of the ids its last selection held.
SCATTER_KEY = "explore_scatter"
SCATTER_PICKS_KEY = "explore_picked"
#: The same for the Map page's chart.
MAP_KEY = "map_chart"
MAP_PICKS_KEY = "map_picked"


def point_ids(points: list[dict]) -> list[int]:
    """The catalog ids of Plotly selection points (their ``customdata``), without repeats, sorted.

    Examples
    --------
    >>> point_ids([{"customdata": [7]}, {"customdata": 3}, {"customdata": 7}, {"x": 1}])
    [3, 7]
    """
    ids = set()
    for point in points:
        value = point.get("customdata")
        if isinstance(value, list):
            value = value[0] if value else None
        if value is not None:
            ids.add(int(value))
    return sorted(ids)


def open_scatter_pick(weights: dict[str, float], key: str = SCATTER_KEY, picks_key: str = SCATTER_PICKS_KEY,
                      expand: Callable[[dict[str, float], list[int]], list[int]] | None = None) -> None:
    """Callback of a chart of images (the Explore scatter, the map): open the best-ranked of the images just
    selected in the chart of widget key `key`.

    The selected ids are kept under `picks_key`, so the page can list a box or lasso selection or the images
    a point stands for; an emptied selection opens nothing and keeps the open image.  `expand`, if given,
    turns the ids of the points selected into those of the images they stand for
    (:func:`ui.data.ids_at_same_places` on the map).
    """
    state = st.session_state.get(key)
    points = state["selection"]["points"] if state and "selection" in state else []
    picked = point_ids(points)
    if picked and expand is not None:
        picked = expand(weights, picked)
    st.session_state[picks_key] = picked
    if picked:
        chosen = data.rows_by_id(weights, picked)
        if len(chosen):
            open_image(int(chosen.sort_values("rank")["id"].iloc[0]))  # the best-ranked


def open_row_pick(key: str, ids: list[int]) -> None:
    """Callback of a single-row table selection: open the image of the row just ticked.

    Parameters
    ----------
    key : str
        The table's widget key.
    ids : list of int
        The catalog id of each row, in the order shown.
    """
    state = st.session_state.get(key)
    rows = state["selection"]["rows"] if state and "selection" in state else []
    if rows and rows[0] < len(ids):
        open_image(int(ids[rows[0]]))


def picked_list(weights: dict[str, float], picks_key: str, table_key: str) -> None:
    """Under a chart: the images of its last box or lasso selection (kept under `picks_key`), best first,
    as a table whose ticked row opens its image; nothing when one image or none was picked."""
    picked = st.session_state.get(picks_key, [])
    if len(picked) > 1:
        chosen = data.rows_by_id(weights, picked).sort_values("rank")
        st.caption(f"{len(picked)} images selected; the best-scoring one was opened. Pick another:")
        st.dataframe(chosen[["rank", "name", "score", "outlier"]], hide_index=True, selection_mode="single-row",
                     on_select=partial(open_row_pick, table_key, chosen["id"].astype(int).tolist()),
                     key=table_key, height=min(250, 38 + 35 * len(chosen)))

"""Opening an image from a click in a chart or a table, as a widget callback.

A callback runs before the page script, so the run that handles a click already shows the image it
opened.  A callback also fires only when the selection changes, so an old selection that stays in a
widget's state never reopens its image over a newer choice (a neighbour's Open, a deep link).
"""

from __future__ import annotations

import streamlit as st

from ui import data
from ui.viewer import open_image

#: Widget key of the Explore scatter, and session-state key of the ids its last selection held.
SCATTER_KEY = "explore_scatter"
SCATTER_PICKS_KEY = "explore_picked"


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


def open_scatter_pick(weights: dict[str, float]) -> None:
    """Callback of the Explore scatter: open the best-ranked of the images just selected in it.

    The selected ids are kept under :data:`SCATTER_PICKS_KEY`, so the page can list a box or lasso
    selection; an emptied selection opens nothing and keeps the open image.
    """
    state = st.session_state.get(SCATTER_KEY)
    points = state["selection"]["points"] if state and "selection" in state else []
    picked = point_ids(points)
    st.session_state[SCATTER_PICKS_KEY] = picked
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

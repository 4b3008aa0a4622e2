"""Explore: the catalog as a scatter plot, with the image viewer beside it."""

from functools import partial

import pandas as pd
import streamlit as st

from marsviz.scoring import OUTLIER_THRESHOLD
from ui import chart_ring, data, selection, sidebar, viewer

st.title("Explore")
weights = sidebar.chosen_weights()
table = data.ranking_or_stop(weights)
sidebar.warn_if_unweighted(weights)

labels = data.column_labels()
axes = ["projection_1", "projection_2", "score", "outlier_score",
        *[n for n in labels if n in table and pd.api.types.is_numeric_dtype(table[n]) and table[n].notna().any()
          and n not in ("score", "outlier_score", "projection_1", "projection_2")]]
colours = [*axes, "view", "label", "mission", "instrument", "source", "season"]
left, right = st.columns([3, 2], gap="large")
with left:
    pick_x, pick_y, pick_colour = st.columns(3)
    projection_help = ("Projections 1 and 2 map every feature at once: the two main directions in which the images' "
                       "feature ranks differ (see the Method page).")
    x = pick_x.selectbox("x axis", axes, index=0, format_func=labels.get, key="explore_x", help=projection_help)
    y = pick_y.selectbox("y axis", axes, index=1, format_func=labels.get, key="explore_y", help=projection_help)
    colour = pick_colour.selectbox("Colour", colours, index=colours.index("score"), format_func=labels.get,
                                   key="explore_colour")
    selected = viewer.selected_image_id()
    drawn = data.scatter_points(weights, x, y)
    figure = data.scatter_figure(weights, x, y, colour)
    st.plotly_chart(figure, on_select=partial(selection.open_scatter_pick, weights),
                    selection_mode=("points", "box", "lasso"), key=selection.SCATTER_KEY, config={"displaylogo": False})
    chart_ring.ring(selection.SCATTER_KEY, None if selected is None else data.ring_position(
        weights, figure, selected, x, y))
    selection.picked_list(weights, selection.SCATTER_PICKS_KEY, "explore_selection_table")
    st.caption(f"{len(table)} images · {int(table['outlier'].sum())} outliers (outlined in red: robust outlier "
               f"score above {OUTLIER_THRESHOLD}). Click a point, or drag a box or lasso, to open it.")
    if len(drawn) < len(table):
        st.caption(f"{len(drawn)} points drawn: of images that would land on the same spot, only one is drawn "
                   "(an outlier if there is one, else the best-ranked). The Ranking page lists them all.")
with right:
    viewer.show(selected, weights, key="explore_viewer", order=table["id"].to_numpy())

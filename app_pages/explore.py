"""Explore: the catalog as a scatter plot, with the image viewer beside it."""

from functools import partial

import streamlit as st

from marsviz import plots
from marsviz.scoring import OUTLIER_THRESHOLD
from ui import data, selection, sidebar, viewer

st.title("Explore")
weights = sidebar.chosen_weights()
table = data.ranking_or_stop(weights)

labels = data.column_labels()
axes = ["score", "outlier_score", "projection_1", "projection_2", *[n for n in labels if n in table
                                                                       and n not in ("score", "outlier_score",
                                                                                     "projection_1", "projection_2")]]
left, right = st.columns([3, 2], gap="large")
with left:
    pick_x, pick_y, pick_colour = st.columns(3)
    x = pick_x.selectbox("x axis", axes, index=axes.index("projection_1"), format_func=labels.get, key="explore_x")
    y = pick_y.selectbox("y axis", axes, index=axes.index("projection_2"), format_func=labels.get, key="explore_y")
    colour = pick_colour.selectbox("Colour", [*axes, "view"], index=0, format_func=labels.get, key="explore_colour")
    selected = viewer.selected_image_id()
    drawn = data.scatter_points(weights, x, y)
    st.plotly_chart(plots.scatter(drawn, x, y, colour, labels, selected),
                    on_select=partial(selection.open_scatter_pick, weights), selection_mode=("points", "box", "lasso"), key=selection.SCATTER_KEY,
                    config={"displaylogo": False})
    if colour == "view":
        st.caption(":blue[● orbital] · :orange[● surface] · :gray[● hardware] · :violet[● other] · "
                   "light grey: not classified")
    picked = st.session_state.get(selection.SCATTER_PICKS_KEY, [])
    if len(picked) > 1:
        chosen = table[table["id"].isin(picked)]
        st.caption(f"{len(picked)} images selected; the best-scoring one was opened. Pick another:")
        st.dataframe(chosen[["rank", "name", "score", "outlier"]], hide_index=True, selection_mode="single-row",
                     on_select=partial(selection.open_row_pick, "explore_selection_table",
                                       chosen["id"].astype(int).tolist()),
                     key="explore_selection_table", height=min(250, 38 + 35 * len(chosen)))
    st.caption(f"{len(table)} images · {int(table['outlier'].sum())} outliers (diamonds: robust outlier score "
               f"above {OUTLIER_THRESHOLD}). Click a point, or drag a box or lasso, to open it.")
    if len(drawn) < len(table):
        st.caption(f"{len(drawn)} points drawn: of images that would land on the same spot, only one is drawn "
                   "(an outlier if there is one, else the best-ranked). The Ranking page lists them all.")
with right:
    viewer.show(selected, table, weights, key="explore_viewer")

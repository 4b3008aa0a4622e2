"""Explore: the catalog as a scatter plot, with the image viewer beside it."""

import streamlit as st

from marsviz import plots
from marsviz.scoring import OUTLIER_THRESHOLD
from ui import data, sidebar, viewer

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
    # A point picked in the chart is already marked by the chart's own selection; ringing it as well
    # would change the figure on every click and make the browser redraw every point.
    ring = None if selected in st.session_state.get("explore_last_pick", []) else selected
    event = st.plotly_chart(plots.scatter(drawn, x, y, colour, labels, ring), on_select="rerun",
                            selection_mode=("points", "box", "lasso"), key="explore_scatter",
                            config={"displaylogo": False})
    if colour == "view":
        st.caption(":blue[● orbital] · :orange[● surface] · :gray[● hardware] · :violet[● other] · "
                   "light grey: not classified")
    points = event.selection.points if event else []
    picked = sorted({int(p["customdata"][0] if isinstance(p["customdata"], list) else p["customdata"])
                     for p in points if p.get("customdata") is not None})
    # A selection stays in the chart's state across reruns; act on it only when it changes, so that
    # opening a neighbour is not undone by the old selection.
    if picked != st.session_state.get("explore_last_pick"):
        st.session_state["explore_last_pick"] = picked
        if picked:
            best = table[table["id"].isin(picked)].iloc[0]  # the table is ranked: best score first
            viewer.open_image(int(best["id"]))
            selected = int(best["id"])
    if len(picked) > 1:
        chosen = table[table["id"].isin(picked)][["rank", "name", "score", "outlier"]]
        st.caption(f"{len(picked)} images selected; the best-scoring one is open. Pick another:")
        pick = st.dataframe(chosen, hide_index=True, on_select="rerun", selection_mode="single-row",
                            key="explore_selection_table", height=min(250, 38 + 35 * len(chosen)))
        rows = pick.selection.rows if pick else []
        if rows:
            selected = int(table[table["id"].isin(picked)].iloc[rows[0]]["id"])
            viewer.open_image(selected)
    st.caption(f"{len(table)} images · {int(table['outlier'].sum())} outliers (diamonds: robust outlier score "
               f"above {OUTLIER_THRESHOLD}). Click a point, or drag a box or lasso, to open it.")
    if len(drawn) < len(table):
        st.caption(f"{len(drawn)} points drawn: of images that would land on the same spot, only one is drawn "
                   "(an outlier if there is one, else the best-ranked). The Ranking page lists them all.")
with right:
    viewer.show(selected, table, weights, key="explore_viewer")

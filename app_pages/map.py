"""Map: images whose place is known (labels, CTX product ids, landing sites), on Mars, with the viewer beside them."""

from functools import partial

import streamlit as st

from ui import chart_ring, data, selection, sidebar, viewer

st.title("Map")
weights = sidebar.chosen_weights()
table = data.ranking_or_stop(weights)
sidebar.warn_if_unweighted(weights)
placed = data.placed_rows(weights)
labels = data.column_labels()

left, right = st.columns([3, 2], gap="large")
with left:
    if placed.empty:
        st.info("No image in this catalog has a known place yet. Images are placed from what an archive product's "
                "label says (PDS3, PDS4: the middle of its bounds, or the centre it gives), from a CTX "
                "product id (its rounded centre) or at a lander's or rover's landing site; a HiRISE product id "
                "gives only the latitude, not enough for the map. Add such images on the Upload page or with "
                "`python -m marsviz add`.")
    else:
        colours = ["score", "view", "label", "season", "mission", "instrument", "scale_m_per_px", "outlier_score",
                   "south_polar_ice_region", "ground_ice_band"]
        colour = st.selectbox("Colour", colours, format_func=lambda c: labels.get(c, c), key="map_colour")
        selected = viewer.selected_image_id()
        figure = data.map_figure(weights, colour)
        st.plotly_chart(figure, on_select=partial(selection.open_scatter_pick, weights, selection.MAP_KEY,
                                                  selection.MAP_PICKS_KEY, expand=data.ids_at_same_places),
                        selection_mode=("points", "box", "lasso"), key=selection.MAP_KEY,
                        config={"displaylogo": False})
        chart_ring.ring(selection.MAP_KEY, None if selected is None else data.ring_position(
            weights, figure, selected, "longitude", "latitude"))
        selection.picked_list(weights, selection.MAP_PICKS_KEY, "map_selection_table")
        st.caption(f"{len(placed):,} of {len(table):,} images have a known place; the others are not on the map. Rover "
                   "and lander frames are placed at their landing site: the images of one place are one point, "
                   "larger for more; a click on it opens the best-scoring and lists them all. "
                   "Simple cylindrical: longitude east across, planetocentric latitude up, a 30° graticule "
                   "(no basemap). Click a point, or drag a box or lasso, to open it; the open image is the same on "
                   "Explore and Ranking.")
with right:
    viewer.show(viewer.selected_image_id(), weights, key="map_viewer", order=placed["id"].to_numpy(),
                hint="Click a place on the map to open its image here." if len(placed) else
                "An image opened on Ranking or Explore shows here too.")

"""Ranking: every image by composite score, filterable, with the viewer beside the table."""

from functools import partial

import streamlit as st

from marsviz.registry import REGISTRY
from ui import data, selection, sidebar, viewer

PAGE_SIZE = 25

st.title("Ranking")
weights = sidebar.chosen_weights()
table = data.ranking_or_stop(weights)

filters = st.columns(5)
chosen = {
    column: filters[i].multiselect(label, sorted(v for v in table[column].dropna().unique() if v != ""),
                                   key=f"ranking_filter_{column}", placeholder="all", help=help_text)
    for i, (column, label, help_text) in enumerate([
        ("source", "Source", None), ("mission", "Mission", None), ("instrument", "Instrument / camera", None),
        ("view", "Shows", "What the view model sees in the image: orbital ground, a surface (rover or lander) "
                          "view, rover hardware, or other (maps, globes, not Mars).")])
}
kind = filters[4].segmented_control("Kind", ["colour", "grayscale"], key="ranking_filter_kind")
sols, sol_range = table["sol"].dropna(), None
if len(sols) and sols.min() < sols.max():
    full = (int(sols.min()), int(sols.max()))
    low, high = st.slider("Sol (rover images; images without a sol are hidden once you narrow this)", *full, full,
                          key="ranking_filter_sol")
    sol_range = None if (low, high) == full else (low, high)
shown = data.filtered(table, chosen, None if kind is None else kind == "colour", sol_range)

pages = max(1, -(-len(shown) // PAGE_SIZE))
left, right = st.columns([3, 2], gap="large")
with left:
    page_number = st.number_input(f"Page (of {pages}; {len(shown)} images)", 1, pages, 1, key="ranking_page")
    window = data.with_thumbnails(shown.iloc[(page_number - 1) * PAGE_SIZE: page_number * PAGE_SIZE])
    columns = ["rank", "thumbnail", "name", "source", "mission", "instrument", "view", "score", "outlier", *REGISTRY]
    config = {
        "thumbnail": st.column_config.ImageColumn("Image", width="small"),
        "score": st.column_config.ProgressColumn("Score", min_value=0.0, max_value=1.0, format="%.3f"),
        "outlier": st.column_config.CheckboxColumn("Outlier"),
        "view": st.column_config.TextColumn("Shows"),
        **{n: st.column_config.NumberColumn(f.label, format="%.3f", help=f.measures) for n, f in REGISTRY.items()},
    }
    # The table is keyed by the open image and ticks its row: after an open from elsewhere (a neighbour,
    # a link) no stale tick is left on a row, which a click would then untick instead of opening it.
    open_id, ids = viewer.selected_image_id(), window["id"].astype(int).tolist()
    table_key = f"ranking_table_{page_number}_{open_id}"
    st.dataframe(window[columns], column_config=config, hide_index=True, selection_mode="single-row",
                 on_select=partial(selection.open_row_pick, table_key, ids), key=table_key,
                 selection_default={"selection": {"rows": [ids.index(open_id)]}} if open_id in ids else None,
                 row_height=60, height=38 + 60 * len(window))
with right:
    viewer.show(open_id, table, weights, key="ranking_viewer",
                hint="Tick a row of the ranking to open its image here.")

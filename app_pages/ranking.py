"""Ranking: the whole catalog searched, filtered and sorted, as a table or a gallery, with the viewer beside it."""

from functools import partial

import streamlit as st

from marsviz import query
from marsviz.learn import LEARNED_LABEL
from marsviz.registry import LEARNED_SCORE, REGISTRY
from ui import data, ranking_controls, selection, sidebar, viewer

PAGE_SIZE = 24
GALLERY_CARD_PX = 140
#: Always shown; rank and name stay pinned while the others scroll sideways (on a phone, or with more columns).
SHOWN = ["rank", "name", "thumbnail", "score", "view"]
OPTIONAL = ["label", "note", "labeled_by", LEARNED_SCORE, "outlier", "outlier_score", "source", "mission",
            "instrument", "product_id", "sol", "date_taken", "latitude", "longitude", "location_from", "season",
            "solar_longitude", "mars_year", "observed_at", "scale_m_per_px", *REGISTRY]

st.title("Ranking")
weights = sidebar.chosen_weights()
table = data.ranking_or_stop(weights)
sidebar.warn_if_unweighted(weights)
asked = ranking_controls.controls(table)
positions = data.selected_rows(weights, asked)
labels = data.column_labels()

left, right = st.columns([5, 3], gap="medium")
with left:
    shape, paging, export = st.columns([2, 2, 3], vertical_alignment="bottom")
    layout = shape.segmented_control("Show as", ["Table", "Gallery"], default="Table", key="ranking_layout",
                                     required=True)
    pages = max(1, -(-len(positions) // PAGE_SIZE))
    page_number = paging.number_input(f"Page of {pages}", 1, pages, 1, key=f"ranking_page_{hash(asked)}")
    with export.popover(f"Export {len(positions):,} rows", icon=":material/download:", width="stretch"):
        st.caption("Every image that passes the search and filters, in the order shown, with its features.")
        for label, make, suffix, mime in (("CSV", query.to_csv, "csv", "text/csv"),
                                          ("Parquet", query.to_parquet, "parquet", "application/vnd.apache.parquet")):
            st.download_button(label, partial(data.export, make, table, positions),
                               file_name=f"marsviz-ranking.{suffix}", mime=mime,
                               on_click="ignore", key=f"ranking_export_{suffix}", width="stretch")
    st.caption(f"{len(positions):,} of {len(table):,} images match."
               if len(positions) < len(table) else f"All {len(table):,} images.")
    if not len(positions):
        st.info("No image passes this search and these filters.")
    window = table.iloc[positions[(page_number - 1) * PAGE_SIZE: page_number * PAGE_SIZE]]
    open_id, ids = viewer.selected_image_id(), window["id"].astype(int).tolist()

    if layout == "Gallery" and len(window):
        # Cards of a fixed width in a wrapping row: four across beside the viewer, two on a phone.
        with st.container(horizontal=True, wrap=True, gap="small"):
            for row in window.to_dict(orient="records"):
                with st.container(width=GALLERY_CARD_PX):
                    score = "no score" if row["score"] != row["score"] else f"{row['score']:.3f}"
                    viewer.tile_card(row, f"ranking_gallery_{row['id']}", row["name"],
                                     f"#{row['rank']} · {score}", is_open=row["id"] == open_id)
    elif len(window):
        extra = st.multiselect("More columns", OPTIONAL, default=["label", "outlier"], key="ranking_columns",
                               format_func=lambda c: labels.get(c) or c.replace("_", " ").capitalize())
        config = {
            "rank": st.column_config.NumberColumn("Rank", pinned=True, width=50),
            "thumbnail": st.column_config.ImageColumn("Image", width="small"),
            "name": st.column_config.TextColumn("Name", pinned=True, width=230),
            "score": st.column_config.ProgressColumn("Score", min_value=0.0, max_value=1.0, format="%.3f",
                                                     width=90),
            "view": st.column_config.TextColumn("Shows", width=70),
            "label": st.column_config.TextColumn("Label", width=100, help="Your label (set in the viewer)"),
            "note": st.column_config.TextColumn("Note", width=160),
            "labeled_by": st.column_config.TextColumn("Labeled by", width=90),
            LEARNED_SCORE: st.column_config.NumberColumn(LEARNED_LABEL, format="%.3f",
                                                         help="The score fitted to your labels (sidebar: Your labels)"),
            "outlier": st.column_config.CheckboxColumn("Outlier", width="small"),
            "outlier_score": st.column_config.NumberColumn("Outlier score", format="%.1f"),
            "product_id": st.column_config.TextColumn("Product id", width=160),
            "latitude": st.column_config.NumberColumn("Latitude", format="%.2f°", help="Centre, planetocentric"),
            "longitude": st.column_config.NumberColumn("Longitude", format="%.2f°E", help="Centre, east, 0-360"),
            "scale_m_per_px": st.column_config.NumberColumn("m/px", format="%.3g", help="Metres per pixel"),
            "location_from": st.column_config.TextColumn("Place from", width=90,
                                                         help="label, product_id (MRO) or rover_site (landing site)"),
            "season": st.column_config.TextColumn("Season", width=120, help="In the image's hemisphere"),
            "solar_longitude": st.column_config.NumberColumn("Ls", format="%.1f°", help="Solar longitude (Mars24)"),
            "mars_year": st.column_config.NumberColumn("MY", format="%d", help="Mars year (Piqueux et al. 2015)"),
            "observed_at": st.column_config.TextColumn("Taken (UTC)", width=150,
                                                       help="From the source or label, else the middle of the sol"),
            **{n: st.column_config.NumberColumn(f.label, format="%.3f", help=f.measures) for n, f in REGISTRY.items()},
        }
        # Keyed by the open image, with its row ticked: after an open from elsewhere (a neighbour, a link)
        # no stale tick is left on a row, which a click would then untick instead of opening it.
        table_key = f"ranking_table_{hash(asked)}_{page_number}_{open_id}"
        rows = data.with_thumbnails(data.with_labels(window, readable=True))
        st.dataframe(rows[SHOWN + extra], column_config=config, hide_index=True,
                     selection_mode="single-row",
                     on_select=partial(selection.open_row_pick, table_key, ids), key=table_key,
                     selection_default={"selection": {"rows": [ids.index(open_id)]}} if open_id in ids else None,
                     row_height=60, height=38 + 60 * len(window))
with right:
    viewer.show(viewer.selected_image_id(), weights, key="ranking_viewer",
                hint="Tick a row of the ranking, or Open a card of the gallery, to open its image here.",
                order=table["id"].to_numpy()[positions])

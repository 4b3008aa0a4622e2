"""Upload: add your own images and see where they rank."""

import pandas as pd
import streamlit as st

from marsviz.decode import ACCEPTED_SUFFIXES, ALLOWED_FORMATS
from marsviz.errors import MarsvizError
from marsviz.pipeline import add_bytes
from marsviz.provenance import Provenance
from ui import access, data, sidebar
from ui.text import escape_markdown, ordinal

st.title("Upload")
st.write("Add JPEG, PNG, TIFF or WebP images. Each is checked, analysed with the same features as the catalog and "
         "ranked against it. The same file uploaded twice is recognised and kept once.")
added_by = access.require_writer("upload")

files = st.file_uploader("Images", type=list(ACCEPTED_SUFFIXES), accept_multiple_files=True, key="upload_files")
results = st.session_state.setdefault("upload_results", {})
catalog = data.get_catalog()
for upload in files or []:
    if upload.file_id in results:
        continue
    try:
        provenance = Provenance(source="upload", name=upload.name, added_by=added_by)
        outcome = add_bytes(catalog, upload.getvalue(), provenance)
        results[upload.file_id] = outcome
    except MarsvizError as error:  # the catalog itself failed (disk full, read-only folder)
        st.error(f"{escape_markdown(upload.name)} could not be stored: {escape_markdown(error)}")

current = [results[u.file_id] for u in files or [] if u.file_id in results]
if current:
    weights = sidebar.chosen_weights()
    total = len(data.ranked_table(weights))
    st.subheader("Your images")
    for outcome in current:
        name = escape_markdown(outcome.name)
        if outcome.status == "rejected":
            st.error(f"**{name}** was not added: {escape_markdown(outcome.reason)}")
            continue
        match = data.rows_by_id(weights, [outcome.image_id])
        if match.empty:
            continue
        ranked = match.iloc[0]
        with st.container(border=True):
            thumb, text = st.columns([1, 5])
            thumbnail = catalog.thumbnail_path(ranked)
            if thumbnail.exists():
                thumb.image(str(thumbnail), width="stretch")
            status = "added" if outcome.status == "added" else "already in the catalog"
            score = "no score" if pd.isna(ranked["score"]) else f"score {ranked['score']:.3f}"
            text.markdown(f"**{name}** ({status}): rank **{int(ranked['rank'])} of {total}**, "
                          f"{ordinal(round(ranked['percentile']))} percentile, {score}"
                          + (" · :red[outlier]" if ranked["outlier"] else ""))
            if outcome.note:
                text.caption(escape_markdown(outcome.note))
            text.page_link("app_pages/explore.py", label="Open in the viewer", icon=":material/open_in_new:",
                           query_params={"image": str(int(outcome.image_id))})
st.caption(f"Accepted formats: {', '.join(sorted(ALLOWED_FORMATS))}. Files are stored under their content hash; "
           "the name you uploaded is kept as metadata only.")

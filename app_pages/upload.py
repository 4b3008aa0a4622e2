"""Upload: add your own images and see where they rank."""

import pandas as pd
import streamlit as st

from marsviz.decode import ACCEPTED_SUFFIXES, ALLOWED_FORMATS
from marsviz.errors import MarsvizError
from marsviz.pipeline import AddResult, add_bytes
from marsviz.products import assemble
from marsviz.provenance import Provenance
from ui import access, data, sidebar
from ui.text import escape_markdown, ordinal

st.title("Upload")
st.write("Add JPEG, PNG, TIFF or WebP images, or planetary archive products: PDS3, PDS4, VICAR, FITS or JPEG 2000. "
         "Choose a detached label (.LBL, .xml) together with its data file. Each is checked, analysed with the same "
         "features as the catalog and ranked against it. The same file uploaded twice is recognised and kept once.")
added_by = access.require_writer("upload")

files = st.file_uploader("Images", type=list(ACCEPTED_SUFFIXES), accept_multiple_files=True, key="upload_files")
results = st.session_state.setdefault("upload_results", {})
catalog = data.get_catalog()
files = files or []
products = assemble([(upload.name, upload.getvalue()) for upload in files])
for positions, name, content in products:
    key = tuple(files[p].file_id for p in positions)
    if key in results:
        continue
    if isinstance(content, str):
        results[key] = AddResult("rejected", name, reason=content)
        continue
    try:
        results[key] = add_bytes(catalog, content, Provenance(source="upload", name=name, added_by=added_by))
    except MarsvizError as error:  # the catalog itself failed (disk full, read-only folder)
        st.error(f"{escape_markdown(name)} could not be stored: {escape_markdown(error)}")

current = [results[key] for key in (tuple(files[p].file_id for p in positions) for positions, _, _ in products)
           if key in results]
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
st.caption(f"Accepted formats: {', '.join(sorted(ALLOWED_FORMATS))}; PDS3, PDS4, VICAR, FITS and JPEG 2000 products. "
           "Files are stored under their content hash; the name you uploaded is kept as metadata only.")

"""Scrape: fetch images from NASA's public services into the catalog, with progress and cancel."""

import pandas as pd
import streamlit as st

from marsviz.errors import MarsvizError
from marsviz.fetch import check_app_api_root
from marsviz.scrape import ScrapeJob
from marsviz.sources import RENDITIONS, SOURCES, Query
from ui import access, data

POLL_SECONDS = 1.0

st.title("Scrape NASA")
st.write("Fetch images from NASA's public services. Each image is downloaded, checked, analysed and ranked "
         "with the rest of the catalog. Images already in the catalog are skipped without downloading, so "
         "running the same scrape again resumes it.")

added_by = access.require_writer("scrape")

job = st.session_state.get("scrape_job")
busy = job is not None and job.running

# Outside the form, so that choosing a source shows the fields that source has, and no others.
source = st.selectbox("Source", list(SOURCES), format_func=lambda name: SOURCES[name].description,
                      key="scrape_source")
uses = set(SOURCES[source].query_fields)
with st.form("scrape_form"):
    values = {}
    row = iter(st.columns(2) if uses & {"text", "cameras"} else ())  # a row for each pair, so that pairs line up
    if "text" in uses:
        values["text"] = next(row).text_input("Search text", placeholder="mars", key="scrape_text")
    if "cameras" in uses:
        values["cameras"] = next(row).text_input("Cameras, comma-separated", key="scrape_cameras",
                                                 placeholder="all cameras",
                                                 help="Camera codes as the feed names them: NAVCAM_LEFT or "
                                                      "MCZ_RIGHT (Perseverance), NAV_LEFT_B or MAST_LEFT (Curiosity).")
    if "sol_min" in uses:
        left, right = st.columns(2)
        values["sol_min"] = left.number_input("First sol", min_value=0, value=None, step=1, key="scrape_sol_min")
        values["sol_max"] = right.number_input("Last sol (same as first for one sol)", min_value=0, value=None,
                                               step=1, key="scrape_sol_max")
    if "year_start" in uses:
        left, right = st.columns(2)
        values["year_start"] = left.number_input("First year", min_value=1960, max_value=2100, value=None, step=1,
                                                 key="scrape_year_start")
        values["year_end"] = right.number_input("Last year", min_value=1960, max_value=2100, value=None, step=1,
                                                key="scrape_year_end")
    left, _ = st.columns(2)
    limit = left.number_input("Look at no more than this many items", min_value=1, max_value=10_000, value=20,
                              step=1, key="scrape_limit")
    with st.expander("More options"):
        if "size" in uses:
            values["size"] = st.selectbox("Rendition", ["", *RENDITIONS], format_func=lambda s: s or "source default",
                                          key="scrape_size")
        if "include_partial" in uses:
            values["include_partial"] = st.checkbox("Also thumbnails and subframes", key="scrape_partial")
        atlas = [name for name in ("target", "mission", "instrument", "spacecraft") if name in uses]
        for column, name in zip(st.columns(len(atlas)) if atlas else [], atlas):
            values[name] = column.text_input(name.capitalize(), key=f"scrape_{name}",
                                             placeholder=SOURCES[source].placeholders.get(name, ""))
        api_root = st.text_input("API root (another server for the source: a NASA host, or a mirror the server's "
                                 "operator allows)", key="scrape_api_root")
    start = st.form_submit_button("Start scrape", type="primary", disabled=busy)

if start and not busy:
    try:
        root = api_root.strip() or None
        if root:
            check_app_api_root(root)  # a visitor must not make the server fetch from its own network
        numbers = {"sol_min", "sol_max", "year_start", "year_end"}
        query = Query.from_inputs(**{name: None if value is None else int(value) if name in numbers else value
                                     for name, value in values.items()})
        job = ScrapeJob(data.get_catalog(), source, query, api_root=root, limit=int(limit),
                        added_by=added_by).start()
        st.session_state["scrape_job"] = job
        st.session_state["scrape_watching"] = True
    except MarsvizError as error:
        st.error("The scrape could not start:")
        st.text(str(error))


busy = job is not None and job.running


def show_results(report) -> None:
    if report.error and not report.done:
        st.error("Nothing was fetched: the service could not be reached, or did not answer as expected. "
                 "What happened:")
        st.text(report.error)
        return
    st.text(report.counts())
    if report.error:
        st.error("The run stopped before the end; everything fetched before that is kept. Run the same scrape "
                 "again to go on from there. What happened:")
        st.text(report.error)
    elif report.cancelled:
        st.warning("Cancelled. What finished before is kept; run the same scrape again to go on from there.")
    if report.added:
        st.subheader("Added")
        st.dataframe(pd.DataFrame([{"id": image_id, "name": name, "open": f"./?image={image_id}"}
                                   for image_id, name in report.added]), hide_index=True,
                     column_config={"open": st.column_config.LinkColumn("Ranking", display_text="open in ranking")})
    problems = [{"name": name, "problem": "download failed", "reason": reason} for name, reason in report.failed]
    problems += [{"name": name, "problem": "not an acceptable image", "reason": reason}
                 for name, reason in report.rejected]
    if problems:
        st.subheader("Not added")
        st.dataframe(pd.DataFrame(problems), hide_index=True)
    if report.unlabelled:
        st.subheader("Added without their label")
        st.caption("These images are in the catalog, but their product's label could not be read, so their place, "
                   "scale and lighting are not known.")
        st.dataframe(pd.DataFrame(report.unlabelled, columns=["name", "reason"]), hide_index=True)


@st.fragment(run_every=POLL_SECONDS if busy else None)
def status() -> None:
    current = st.session_state.get("scrape_job")
    if current is None:
        return
    report = current.snapshot()
    if current.running:
        total = report.total
        st.progress(min(report.done / total, 1.0) if total else 0.0, text=report.progress_line())
        if report.last:
            st.text(report.last)
        if st.button("Cancel", key="scrape_cancel"):
            current.cancel()
            st.text("Cancelling: stopping the requests in flight...")
        return
    if st.session_state.get("scrape_watching"):
        # The run ended while only this fragment was refreshing: redraw the page so the form unlocks.
        st.session_state["scrape_watching"] = False
        st.rerun()
    show_results(report)


status()

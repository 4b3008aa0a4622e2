"""Scrape: fetch images from NASA's public services into the catalog, with progress and cancel."""

import pandas as pd
import streamlit as st

from marsviz.errors import MarsvizError
from marsviz.fetch import check_app_api_root
from marsviz.scrape import ScrapeJob
from marsviz.sources import SOURCE_NAMES, Query
from ui import access, data

SOURCES = {
    "nasa-images": "NASA Image and Video Library (incl. Photojournal PIA images)",
    "mars2020": "Perseverance (Mars 2020) raw images",
    "msl": "Curiosity (MSL) raw images",
    "pds-atlas": "PDS Imaging Atlas (default: Mars Pathfinder lander)",
}
assert set(SOURCES) == set(SOURCE_NAMES)
POLL_SECONDS = 1.0

st.title("Scrape NASA")
st.write("Fetch images from NASA's public services. Each image is downloaded, checked, analysed and ranked "
         "with the rest of the catalog. Images already in the catalog are skipped without downloading, so "
         "running the same scrape again resumes it.")

added_by = access.require_writer("scrape")

job = st.session_state.get("scrape_job")
busy = job is not None and job.running

with st.form("scrape_form"):
    source = st.selectbox("Source", list(SOURCES), format_func=SOURCES.get, key="scrape_source")
    left, right = st.columns(2)
    text = left.text_input("Search text (Image Library)", placeholder="mars", key="scrape_text")
    cameras = right.text_input("Cameras (rover feeds), comma-separated", placeholder="NAVCAM_LEFT, MCZ_RIGHT",
                               key="scrape_cameras")
    sol_min = left.number_input("First sol", min_value=0, value=None, step=1, key="scrape_sol_min")
    sol_max = right.number_input("Last sol (same as first for one sol)", min_value=0, value=None, step=1,
                                 key="scrape_sol_max")
    limit = left.number_input("Look at no more than this many items", min_value=1, max_value=10_000, value=20,
                              step=1, key="scrape_limit")
    with st.expander("More options"):
        size = st.selectbox("Rendition (Image Library, Perseverance)", ["", "small", "medium", "large", "full"],
                            format_func=lambda s: s or "source default", key="scrape_size")
        include_partial = st.checkbox("Also thumbnails and subframes (rover feeds)", key="scrape_partial")
        columns = st.columns(4)
        target = columns[0].text_input("Target (Atlas)", placeholder="mars", key="scrape_target")
        mission = columns[1].text_input("Mission (Atlas)", key="scrape_mission")
        instrument = columns[2].text_input("Instrument (Atlas)", key="scrape_instrument")
        spacecraft = columns[3].text_input("Spacecraft (Atlas)", placeholder="carl sagan memorial station",
                                           key="scrape_spacecraft")
        api_root = st.text_input("API root (another server for the source: a NASA host, or a mirror the server's "
                                 "operator allows)", key="scrape_api_root")
    start = st.form_submit_button("Start scrape", type="primary", disabled=busy)

if start and not busy:
    try:
        root = api_root.strip() or None
        if root:
            check_app_api_root(root)  # a visitor must not make the server fetch from its own network
        query = Query(text=text.strip(), sol_min=None if sol_min is None else int(sol_min),
                      sol_max=None if sol_max is None else int(sol_max),
                      cameras=tuple(c.strip() for c in cameras.split(",") if c.strip()), size=size,
                      include_partial=include_partial, target=target.strip(), mission=mission.strip(),
                      instrument=instrument.strip(), spacecraft=spacecraft.strip())
        job = ScrapeJob(data.get_catalog(), source, query, api_root=root, limit=int(limit),
                        added_by=added_by).start()
        st.session_state["scrape_job"] = job
        st.session_state["scrape_watching"] = True
    except MarsvizError as error:
        st.error("The scrape could not start:")
        st.text(str(error))


busy = job is not None and job.running


def show_results(report) -> None:
    st.text(report.summary())
    if report.error:
        st.error("The run stopped before the end; everything fetched before that is kept. Run the same scrape "
                 "again to resume. What happened:")
        st.text(report.error)
    elif report.cancelled:
        st.warning("Cancelled. What finished before is kept; run the same scrape again to resume.")
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


@st.fragment(run_every=POLL_SECONDS if busy else None)
def status() -> None:
    current = st.session_state.get("scrape_job")
    if current is None:
        return
    report = current.snapshot()
    if current.running:
        total = report.total
        st.progress(min(report.done / total, 1.0) if total else 0.0,
                    text=f"{report.source}: {report.done} of {total if total else '?'} items done")
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

"""marsviz: the Streamlit app. Run with ``streamlit run app.py``."""

import streamlit as st

from marsviz import config
from marsviz.errors import MarsvizError
from ui import access, data, layout, learning, sidebar, viewer

st.set_page_config(page_title="marsviz: Mars image triage", page_icon=":red_circle:", layout="wide")
try:
    config.check()
except config.SettingError as error:
    st.error("marsviz cannot start: a setting in the server's environment is not valid. Correct it and restart "
             "the app.")
    st.code(str(error), language=None, wrap_lines=True)
    st.stop()

PAGES = [
    st.Page("app_pages/ranking.py", title="Ranking", icon=":material/leaderboard:", default=True),
    st.Page("app_pages/explore.py", title="Explore", icon=":material/scatter_plot:", url_path="explore"),
    st.Page("app_pages/map.py", title="Map", icon=":material/public:", url_path="map"),
    st.Page("app_pages/upload.py", title="Upload", icon=":material/upload:", url_path="upload"),
    st.Page("app_pages/scrape.py", title="Scrape NASA", icon=":material/cloud_download:", url_path="scrape"),
    st.Page("app_pages/method.py", title="Method", icon=":material/menu_book:", url_path="method"),
]
WRITE_PAGES = {"upload", "scrape"}
if access.read_only():
    PAGES = [p for p in PAGES if p.url_path not in WRITE_PAGES]

page = st.navigation(PAGES)
viewer.follow_link(page.url_path)
layout.page_style()
try:
    data.ensure_samples()
    data.refresh_stale_features()
except MarsvizError as error:
    st.error(f"The catalog cannot be opened: {error}")
    st.stop()
st.sidebar.caption("marsviz ranks Mars images by features that hint at water, ice or unusual terrain.")
sidebar.weights()
learning.sidebar_panel()
access.sidebar_status()
page.run()

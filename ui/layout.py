"""Page layout the widgets cannot express: a viewer pane that stays in view, and scrolling to it on an open."""

from __future__ import annotations

import json

import streamlit as st

#: The end of a viewer pane's widget key (:func:`pane_key`); Streamlit gives a keyed container the
#: class ``st-key-<key>``, which the style below finds by this ending.
PANE_SUFFIX = "_viewer_pane"


def pane_key(viewer_key: str) -> str:
    """The container key of the pane of the viewer with widget-key prefix `viewer_key` (``explore_viewer``).

    Examples
    --------
    >>> pane_key("ranking_viewer")
    'ranking_viewer_pane'
    """
    if not viewer_key.endswith("_viewer"):
        raise ValueError(f"a viewer's key ends in '_viewer', not {viewer_key!r}")
    return f"{viewer_key}_pane"

# Beside a list (screens wider than 640 px, where Streamlit puts columns side by side) the viewer's
# column sticks below the header and scrolls on its own, so the list and the viewer each stay usable
# while the other scrolls.  Stacked on a phone, the page scrolls as one.  A sticky column cannot leave
# its row, so it is at most as tall as the window less the header and the page's bottom padding: then
# it still fits when the list is scrolled to its end.
_STYLE = f"""
<style>
[data-testid="stMainBlockContainer"] {{ padding-bottom: 3rem; }}
[class*="{PANE_SUFFIX}"] {{ scroll-margin-top: 4rem; }}
/* A table's own download holds the rows drawn (one page); the Ranking page's Export holds every row. */
[class*="st-key-ranking_table_"] button[aria-label="Download as CSV"] {{ display: none; }}
@media (min-width: 640px) {{
  [data-testid="stColumn"]:has([class*="{PANE_SUFFIX}"]) {{
    position: sticky; top: 3.75rem; align-self: flex-start;
    max-height: calc(100vh - 7.5rem); overflow-y: auto; overscroll-behavior: contain;
  }}
}}
</style>
"""


def page_style() -> None:
    """Add the app's layout rules to the page (once per run, from ``app.py``)."""
    st.html(_STYLE)


def scroll_into_view(container_key: str, token: str) -> None:
    """Scroll the page so the container with widget key `container_key` starts near the top of the window,
    unless it already shows (beside a list, within the top 60 % of the window; stacked, within the top 25 %).

    `token` changes with what was opened: the script runs when it is first drawn, so the page scrolls
    once per open, not on every rerun.
    """
    selector = json.dumps(f".st-key-{container_key}")
    st.html(f"""<script data-open="{token}">
      (() => {{
        // Run again while the page settles: rows and images drawn above the pane can still move it.
        const bring = () => {{
          const pane = document.querySelector({selector});
          if (!pane) return;
          const box = pane.getBoundingClientRect();
          // Stacked under the list (a phone): bring the image up; beside it: only when far out of view.
          const lowest = box.width > 0.8 * window.innerWidth ? 0.25 : 0.6;
          if (box.top < 0 || box.top > window.innerHeight * lowest) pane.scrollIntoView({{block: "start"}});
        }};
        [0, 300, 1000].forEach((delay) => setTimeout(bring, delay));
      }})();
    </script>""", unsafe_allow_javascript=True)

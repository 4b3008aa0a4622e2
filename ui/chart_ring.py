"""The ring around the open image in a Plotly chart, drawn over the chart in the browser.

Streamlit (1.67) derives a selectable chart's widget identity from its whole figure: drawing the ring
into the figure changed the chart on every open, so the browser rebuilt it (seconds on a large
catalog), reset its zoom, and dropped a click sent while the previous open was still running. The
figure is therefore the same whatever is open, and the ring is an element laid over the chart at the
point's screen position. It is not a Plotly shape: changing the figure in the browser (``relayout``)
makes Streamlit send the chart's old selection again, which reopened the image before.
"""

from __future__ import annotations

import json

import streamlit as st

#: Diameter of the ring, in screen pixels (the markers are 8 and 12 px across).
RING_PX = 22

_SCRIPT = """<script>
(() => {
  // One watcher per page keeps each chart's ring where the latest script put it, through zoom, pan,
  // resizing and redraws. It reads Plotly's axis mappings (the chart's _fullLayout).
  const rings = window.marsvizRings = window.marsvizRings || {};
  rings[%(selector)s] = %(point)s;
  const place = () => {
    for (const [selector, point] of Object.entries(window.marsvizRings)) {
      const chart = document.querySelector(selector + " .js-plotly-plot");
      if (!chart || !chart._fullLayout || !chart._fullLayout.xaxis) continue;
      let ring = chart.querySelector(":scope > .marsviz-ring");
      if (!ring) {
        ring = document.createElement("div");
        ring.className = "marsviz-ring";
        ring.style.cssText = "position:absolute;pointer-events:none;box-sizing:border-box;border-radius:50%%;"
          + "width:%(size)spx;height:%(size)spx;border:3px solid #111111;z-index:10;";
        if (getComputedStyle(chart).position === "static") chart.style.position = "relative";
        chart.appendChild(ring);
      }
      const layout = chart._fullLayout, area = layout._size;
      const x = point && area.l + layout.xaxis.l2p(point[0]), y = point && area.t + layout.yaxis.l2p(point[1]);
      const inside = point && x >= area.l && x <= area.l + area.w && y >= area.t && y <= area.t + area.h;
      ring.style.display = inside ? "block" : "none";
      if (inside) {
        ring.style.left = (x - %(size)s / 2) + "px";
        ring.style.top = (y - %(size)s / 2) + "px";
        ring.dataset.at = JSON.stringify(point);
      }
      if (!chart.marsvizRingListens) {  // follow a zoom or pan at once, not at the next tick
        chart.marsvizRingListens = true;
        chart.on("plotly_relayout", place);
        chart.on("plotly_afterplot", place);
      }
    }
  };
  window.marsvizRingPlace = place;
  if (!window.marsvizRingWatcher) window.marsvizRingWatcher = setInterval(() => window.marsvizRingPlace(), 250);
  place();
})();
</script>"""


def ring(chart_key: str, position: tuple[float, float] | None) -> None:
    """Ring `position` (data coordinates) in the Plotly chart with widget key `chart_key`; None removes the ring.

    The ring is a page element over the chart (``.marsviz-ring``, its ``data-at`` the position), hidden
    while the position is outside the plotted area.
    """
    selector, point = json.dumps(f".st-key-{chart_key}"), json.dumps(None if position is None else list(position))
    st.html(_SCRIPT % {"selector": selector, "point": point, "size": RING_PX}, unsafe_allow_javascript=True)

"""The app at scale, in headless Chromium: ``python benchmarks/bench_explore.py [--rows 100000]``.

Starts ``streamlit run app.py`` on 127.0.0.1 over a catalog of N synthetic rows (made by
:mod:`make_catalog` in a temporary data folder unless ``--home`` is given; feature values jittered by
``--jitter``, default 0.05, so the rows spread over the plot as a real catalog's would instead of
sitting on the 71 samples' spots), then measures with Playwright:

- time from opening the Explore page to the scatter plot drawn (first open after the server started,
  when nothing is cached yet, and a second open in a new browser tab);
- click on a point to that image shown in the viewer, median over several points;
- time from opening the Ranking page to its table drawn, and to the next table page;
- a label set in the viewer (a quick label button) to the label shown, and "Next not reviewed" to the next
  image shown, medians over a few, and the label's ratio to an open (``label_over_click``);
- the same second open of Explore on the 71 bundled samples, for comparison: what the page costs at any size,
  and the ratio of the two (``scatter_over_samples``).

``--json`` prints the figures as one JSON line at the end (what ``run_all.py`` reads).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import common  # noqa: F401  (puts this checkout on sys.path for marsviz and tests.browser)
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from marsviz.catalog import Catalog

from make_catalog import make_catalog
from tests.browser import app_server, chromium  # the test suite's server and browser set-up

SCATTER = ".js-plotly-plot .plot-container"
#: JavaScript: page coordinates and name of point `i` of the scatter's first trace.
POINT_JS = """(i) => {
  const gd = document.querySelector('.js-plotly-plot');
  const trace = gd._fullData[0], layout = gd._fullLayout, box = gd.getBoundingClientRect();
  const x = layout.xaxis.l2p(trace.x[i]) + layout._size.l + box.left;
  const y = layout.yaxis.l2p(trace.y[i]) + layout._size.t + box.top;
  return {x: x, y: y, name: trace.text[i], count: trace.x.length};
}"""


HEADINGS_JS = "() => [...document.querySelectorAll('h4')].map(h => h.textContent).join('|')"


def time_to_scatter(browser, url: str) -> tuple[float, object]:
    """Seconds from navigating to the Explore page to its scatter drawn; returns the open page too."""
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    start = time.perf_counter()
    page.goto(f"{url}/explore", wait_until="commit")
    page.wait_for_selector(SCATTER, state="visible", timeout=120_000)
    page.wait_for_function("() => { const gd = document.querySelector('.js-plotly-plot');"
                           " return gd && gd.data && gd.data.length && gd._fullLayout; }", timeout=120_000)
    return time.perf_counter() - start, page


def click_times(page, clicks: int) -> list[float]:
    """Seconds from clicking a scatter point to the viewer showing an image other than the one before.

    The viewer's heading (an ``h4``) is the image's name; when points overlap, the click may open a
    neighbour of the aimed-at point, which counts the same.
    """
    count = page.evaluate(POINT_JS, 0)["count"]
    times = []
    for k in range(clicks * 3):
        if len(times) == clicks:
            break
        point = page.evaluate(POINT_JS, (k * 7919 + 13) % count)
        before = page.evaluate(HEADINGS_JS)
        start = time.perf_counter()
        page.mouse.click(point["x"], point["y"])
        try:
            page.wait_for_function(f"(before) => ({HEADINGS_JS})() !== before", arg=before, timeout=20_000)
        except PlaywrightTimeout:  # the click hit the image already open (overlap): not a measurement
            continue
        times.append(time.perf_counter() - start)
        page.wait_for_timeout(500)
    return times


def ranking_times(browser, url: str) -> tuple[float, float, float]:
    """Seconds to the Ranking table drawn, to the next page of it drawn, and to a search's answer drawn."""
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    start = time.perf_counter()
    page.goto(f"{url}/", wait_until="commit")  # Ranking is the default page
    page.wait_for_selector("[data-testid='stDataFrame']", state="visible", timeout=120_000)
    first = time.perf_counter() - start
    step = page.get_by_test_id("stNumberInputStepUp")
    start = time.perf_counter()
    step.first.click()
    page.wait_for_function("() => [...document.querySelectorAll('[data-testid=\"stDataFrame\"]')].length > 0 &&"
                           " !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000)
    next_page = time.perf_counter() - start
    search = page.get_by_role("textbox", name="Search")
    start = time.perf_counter()
    search.fill("crater")
    search.press("Enter")
    page.wait_for_function("() => location.search.includes('q=crater') && "
                           "!document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000)
    searched = time.perf_counter() - start
    page.close()
    return first, next_page, searched


LABEL_LINE_JS = ("() => [...document.querySelectorAll('[data-testid=stMarkdownContainer]')]"
                 ".map(e => e.innerText).find(t => t.startsWith('Your label:')) || ''")


def review_times(page, rounds: int = 4) -> tuple[list[float], list[float]]:
    """Seconds from a quick label button's click to the label shown in the viewer, and from "Next not
    reviewed" to the next image shown; `rounds` of each, alternating, on the page's open image."""
    labeled, nexts = [], []
    pills = page.locator("[data-testid='stMain'] [data-testid='stButtonGroup'] button")
    for round_ in range(rounds):
        label = ("crater", "dark dune")[round_ % 2]
        start = time.perf_counter()
        pills.filter(has_text=label).first.click()
        page.wait_for_function(f"() => ({LABEL_LINE_JS})().startsWith('Your label: {label}')", timeout=60_000)
        labeled.append(time.perf_counter() - start)
        page.wait_for_timeout(500)
        before = page.evaluate(HEADINGS_JS)
        start = time.perf_counter()
        page.get_by_role("button", name="Next not reviewed").click()
        page.wait_for_function(f"(before) => ({HEADINGS_JS})() !== before", arg=before, timeout=60_000)
        nexts.append(time.perf_counter() - start)
        page.wait_for_timeout(500)
    return labeled, nexts


def server_memory_mb() -> dict[str, float]:
    """Resident memory now and at its peak (VmRSS, VmHWM) of the Streamlit server this process started."""
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
            cmdline = (status.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if int(fields.get("PPid", "0")) == os.getpid() and b"streamlit" in cmdline:
            return {name: int(fields[key].split()[0]) / 1024 for name, key in (("server_rss_mb", "VmRSS"),
                                                                              ("server_hwm_mb", "VmHWM"))}
    return {}


def measure(home: Path, clicks: int) -> dict:
    figures = {}
    with app_server(home, timeout=120) as url, chromium() as browser:
        figures["scatter_cold_s"], page = time_to_scatter(browser, url)
        page.close()
        figures["scatter_s"], page = time_to_scatter(browser, url)
        page.wait_for_timeout(500)
        times = click_times(page, clicks)
        figures["click_median_s"], figures["clicks"] = statistics.median(times), len(times)
        figures["click_times_s"] = [round(t, 3) for t in times]
        labeled, nexts = review_times(page)
        figures["label_median_s"], figures["next_median_s"] = statistics.median(labeled), statistics.median(nexts)
        figures["label_over_click"] = figures["label_median_s"] / figures["click_median_s"]
        page.close()
        figures["ranking_s"], figures["ranking_next_page_s"], figures["ranking_search_s"] = ranking_times(browser,
                                                                                                          url)
        figures.update(server_memory_mb())
    figures["scatter_samples_s"] = samples_floor()
    figures["scatter_over_samples"] = figures["scatter_s"] / figures["scatter_samples_s"]
    return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in figures.items()}


def samples_floor() -> float:
    """The same second open of Explore on the 71 bundled samples: what the page costs at any catalog size."""
    with tempfile.TemporaryDirectory() as home, app_server(Path(home), timeout=120) as url, chromium() as browser:
        for _ in range(2):  # the first open loads the samples into the new catalog
            seconds, page = time_to_scatter(browser, url)
            page.close()
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="synthetic catalog rows")
    parser.add_argument("--home", type=Path, default=None, help="use (and fill) this data folder instead of a "
                        "temporary one")
    parser.add_argument("--clicks", type=int, default=9, help="points clicked for the median")
    parser.add_argument("--jitter", type=float, default=0.05, help="noise added to the synthetic rows' feature "
                        "values (see make_catalog.py)")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON line at the end")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        home = args.home or Path(scratch)
        catalog = Catalog(home)
        if catalog.count() < args.rows:
            make_catalog(catalog, args.rows, progress=lambda text: None, jitter=args.jitter)
        figures = {"rows": catalog.count(), **measure(home, args.clicks)}
    for name, value in figures.items():
        print(f"{name:>22}: {value}", file=sys.stderr)
    if args.json:
        print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())

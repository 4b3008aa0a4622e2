"""Opening an image as a user does it, in headless Chromium: every click or tick opens what was clicked."""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from marsviz.catalog import Catalog
from tests.browser import CHROMIUM, HeldReplies, viewer_heading, wait_for_app, wait_for_heading

pytestmark = pytest.mark.browser

if not Path(CHROMIUM).exists() and not os.environ.get("CI"):
    pytest.skip(f"{CHROMIUM} is not installed (.ci/run installs it)", allow_module_level=True)

#: Points closer than this on screen (px) are not used: a click there could hit the neighbour.
MIN_GAP_PX = 14

POINTS_JS = """() => {
    const gd = document.querySelector('.js-plotly-plot');
    const out = [];
    gd.querySelectorAll('g.trace.scatter').forEach((trace) => {
        const curve = Array.from(trace.parentNode.children).indexOf(trace);
        const data = gd.data[curve];
        if (!data) return;
        trace.querySelectorAll('path.point').forEach((el) => {
            const box = el.getBoundingClientRect();
            if (!box.width) return;
            out.push({id: data.customdata[el.__data__.i], name: data.text[el.__data__.i],
                      x: box.x + box.width / 2, y: box.y + box.height / 2});
        });
    });
    return out;
}"""


def separated_points(page) -> list[dict]:
    """The drawn points that no other point is within MIN_GAP_PX of."""
    page.wait_for_selector(".js-plotly-plot g.trace.scatter path.point", timeout=30000)
    points = page.evaluate(POINTS_JS)
    return [p for p in points
            if all(q is p or (p["x"] - q["x"]) ** 2 + (p["y"] - q["y"]) ** 2 >= MIN_GAP_PX ** 2 for q in points)]


RINGED_JS = """() => {
    const gd = document.querySelector('.js-plotly-plot');
    return [...gd.querySelectorAll('.marsviz-ring')].filter((ring) => ring.style.display !== 'none').map((ring) => {
        const [x, y] = JSON.parse(ring.dataset.at);
        return gd._fullData.flatMap((trace) => Array.from(trace.x, (px, i) => [px, trace.y[i], trace.customdata[i]]))
            .filter(([px, py]) => px === x && py === y).map(([, , id]) => id);
    });
}"""


def ringed_ids(page, expected: int) -> list[list[int]]:
    """The ids of the points under each ring of the scatter, once a ring is around `expected` (or after 10 s)."""
    try:
        page.wait_for_function(f"() => JSON.stringify(({RINGED_JS})()) === JSON.stringify([[{expected}]])",
                               timeout=10000)
    except PlaywrightTimeout:
        pass
    return page.evaluate(RINGED_JS)


def click_and_wait(page, point: dict) -> None:
    page.mouse.click(point["x"], point["y"])
    wait_for_heading(page, point["name"], timeout_ms=20000)
    wait_for_app(page)


def test_after_a_deep_link_every_click_opens_the_image_clicked(browser_app, page):
    url, home, _ = browser_app
    first = Catalog(home).frame().iloc[0]
    page.goto(f"{url}/explore?image={first['id']}")
    wait_for_app(page)
    assert viewer_heading(page) == first["name"]
    targets = [p for p in separated_points(page) if p["id"] != first["id"]][:5]
    assert len(targets) >= 4, "the fixture catalog must give at least four well-separated points"
    for point in targets:
        # Positions are read again before each click: the figure may be redrawn after an open.
        now = {p["id"]: p for p in separated_points(page)}
        click_and_wait(page, now.get(point["id"], point))
        assert viewer_heading(page) == point["name"]
        assert page.url.endswith(f"image={point['id']}")
    assert page.locator("[data-testid='stException']").count() == 0


def test_the_open_image_is_ringed_in_the_scatter(browser_app, page):
    url, home, _ = browser_app
    row = Catalog(home).frame().iloc[2]
    page.goto(f"{url}/explore?image={row['id']}")
    wait_for_app(page)
    assert ringed_ids(page, int(row["id"])) == [[int(row["id"])]]
    other = [p for p in separated_points(page) if p["id"] != row["id"]][0]
    click_and_wait(page, other)
    assert ringed_ids(page, other["id"]) == [[other["id"]]]


def test_opening_images_keeps_the_chart_and_its_zoom(browser_app, page):
    url, home, _ = browser_app
    page.goto(f"{url}/explore")
    wait_for_app(page)
    page.evaluate("() => { document.querySelector('.js-plotly-plot').dataset.drawnOnce = 'yes'; }")
    first, second = separated_points(page)[:2]
    click_and_wait(page, first)
    # As a zoom by the user sets them: ranges that still show both points.
    xs, ys = sorted([first["x"], second["x"]]), sorted([first["y"], second["y"]])
    zoomed = page.evaluate("""([xs, ys]) => {
        const gd = document.querySelector('.js-plotly-plot'), layout = gd._fullLayout, box = gd.getBoundingClientRect();
        const x = (px) => layout.xaxis.p2l(px - box.left - layout._size.l);
        const y = (px) => layout.yaxis.p2l(px - box.top - layout._size.t);
        const range = {'xaxis.range': [x(xs[0] - 40), x(xs[1] + 40)], 'yaxis.range': [y(ys[1] + 40), y(ys[0] - 40)]};
        Plotly.relayout(gd, range);
        return range;
    }""", [xs, ys])
    page.wait_for_timeout(500)
    now = {p["id"]: p for p in separated_points(page)}
    click_and_wait(page, now[second["id"]])
    page.wait_for_timeout(1000)
    chart = page.evaluate("() => { const gd = document.querySelector('.js-plotly-plot');"
                          " return {kept: gd.dataset.drawnOnce, x: gd.layout.xaxis.range, y: gd.layout.yaxis.range}; }")
    assert chart["kept"] == "yes"  # the same chart: not rebuilt when an image opens
    assert chart["x"] == pytest.approx(zoomed["xaxis.range"]) and chart["y"] == pytest.approx(zoomed["yaxis.range"])
    assert ringed_ids(page, second["id"]) == [[second["id"]]]


def test_a_click_while_the_last_open_is_on_its_way_opens_its_image(browser_app, page):
    url, home, _ = browser_app
    replies = HeldReplies(page)
    page.goto(f"{url}/explore")
    wait_for_app(page)
    first, second = separated_points(page)[:2]
    page.evaluate("() => document.addEventListener('mousedown', () => { window.firstDownAt = performance.now(); },"
                  " {capture: true, once: true})")
    replies.held = True  # the first open reaches the page only after the second click
    page.mouse.click(first["x"], first["y"])
    # Two presses closer than Plotly's double-click delay (500 ms by default) are a double-click, which clears
    # the selection.  The wait is timed in the page, from when it handled the first press.
    page.wait_for_function("() => window.firstDownAt !== undefined && performance.now() - window.firstDownAt"
                           " > document.querySelector('.js-plotly-plot')._context.doubleClickDelay + 50",
                           polling=20, timeout=20000)
    page.mouse.click(second["x"], second["y"])
    page.wait_for_timeout(500)
    replies.release()
    wait_for_heading(page, second["name"], timeout_ms=20000)
    wait_for_app(page)
    assert viewer_heading(page) == second["name"] and page.url.endswith(f"image={second['id']}")


def tick_ranking_row(page, row: int) -> None:
    """Click the selection checkbox of the ranking table's `row` (0-based; rows are 60 px, the header 38 px)."""
    grid = page.locator("[data-testid='stMain'] [data-testid='stDataFrame']").first
    grid.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 15, box["y"] + 38 + 60 * row + 30)


def test_ranking_ticking_a_row_after_a_neighbour_opens_it_again(browser_app, page):
    url, _, _ = browser_app
    page.goto(url)
    wait_for_app(page)
    assert page.get_by_text("Tick a row of the ranking").count() == 1  # Ranking has no plot to click
    tick_ranking_row(page, 0)
    page.wait_for_url(lambda u: "image=" in u, timeout=20000)
    wait_for_app(page)
    first = viewer_heading(page)
    page.locator("[data-testid='stMain'] button").filter(has_text=re.compile(r"^Open$")).first.click()  # a neighbour
    page.wait_for_function("(name) => document.querySelector(\"[data-testid='stMarkdownContainer'] h4\")"
                           ".innerText !== name", arg=first, timeout=20000)
    wait_for_app(page)
    tick_ranking_row(page, 0)  # its tick went with the neighbour's open: one click opens it again
    page.wait_for_function("(name) => document.querySelector(\"[data-testid='stMarkdownContainer'] h4\")"
                           ".innerText === name", arg=first, timeout=20000)
    assert viewer_heading(page) == first

"""Opening an image as a user does it, in headless Chromium: every click or tick opens what was clicked."""

import os
import re
from pathlib import Path

import pytest

from marsviz.catalog import Catalog
from tests.browser import CHROMIUM, viewer_heading, wait_for_app, wait_for_heading

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
        if (!data || data.name === 'selected') return;
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


def ringed_ids(page) -> list[list[int]]:
    """The ids of the scatter's "selected" ring trace, one list per such trace."""
    return page.evaluate("() => document.querySelector('.js-plotly-plot').data"
                         ".filter(t => t.name === 'selected').map(t => t.customdata)")


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
    assert ringed_ids(page) == [[int(row["id"])]]
    other = [p for p in separated_points(page) if p["id"] != row["id"]][0]
    click_and_wait(page, other)
    assert ringed_ids(page) == [[other["id"]]]


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

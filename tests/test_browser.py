"""The click-to-inspect path as a user does it: the real app in headless Chromium."""

import os
import re
from pathlib import Path

import pytest

from marsviz.catalog import Catalog
from marsviz.registry import REGISTRY
from marsviz.samples import SAMPLES_DIR
from marsviz.store import sha256_file
from tests.browser import CHROMIUM, viewer_heading, wait_for_app, wait_for_heading
from ui.text import ordinal

pytestmark = pytest.mark.browser

if not Path(CHROMIUM).exists() and not os.environ.get("CI"):
    pytest.skip(f"{CHROMIUM} is not installed (.ci/run installs it)", allow_module_level=True)


def test_clicking_a_scatter_point_opens_that_image_in_the_viewer(browser_app, page):
    url, _, _ = browser_app
    page.goto(f"{url}/explore")
    wait_for_app(page)
    page.wait_for_selector(".js-plotly-plot g.trace.scatter path.point", timeout=30000)
    # Pick a point and find, from the figure's own data, which image it is.
    point = page.locator(".js-plotly-plot g.trace.scatter path.point").nth(3)
    expected = page.evaluate(
        """(el) => {
            const gd = el.closest('.js-plotly-plot');
            const trace = el.closest('g.trace');
            const curve = Array.from(trace.parentNode.children).indexOf(trace);
            const i = el.__data__.i;
            return {name: gd.data[curve].text[i], id: gd.data[curve].customdata[i]};
        }""", point.element_handle())
    box = point.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    wait_for_heading(page, expected["name"])
    assert viewer_heading(page) == expected["name"]
    assert f"image={expected['id']}" in page.url


def test_a_link_with_image_id_opens_the_viewer(browser_app, page):
    url, home, _ = browser_app
    row = Catalog(home).frame().iloc[5]
    page.goto(f"{url}/explore?image={row['id']}")
    wait_for_app(page)
    assert viewer_heading(page) == row["name"]
    image = page.locator("[data-testid='stMain'] [data-testid='stImage'] img").first
    before = image.get_attribute("src")
    page.locator("[data-testid='stMain'] [data-testid='stButtonGroup'] button").filter(has_text="Edges").click()
    wait_for_app(page)
    page.wait_for_function("(before) => document.querySelector(\"[data-testid='stMain'] [data-testid='stImage'] img\").src !== before",
                           arg=before, timeout=30000)  # the overlay redraws the image
    assert page.get_by_text("Edges in yellow").count() == 1
    pills = page.locator("[data-testid='stMain'] [data-testid='stButtonGroup']").first
    right_edge = pills.bounding_box()["x"] + pills.bounding_box()["width"]
    buttons = pills.locator("button").filter(has_text=re.compile(r"\w")).all()
    assert len(buttons) == len([f for f in REGISTRY.values() if f.has_overlay])  # one pill per mapped feature
    assert all(b.bounding_box()["x"] + b.bounding_box()["width"] <= right_edge + 1 for b in buttons)  # none cut off
    assert page.locator("[data-testid='stException']").count() == 0
    assert page.get_by_role("button", name="Deploy").count() == 0  # client.toolbarMode = "viewer"


def upload(page, url, path):
    page.goto(f"{url}/upload")
    wait_for_app(page)
    page.locator("input[type='file']").set_input_files(str(path))



NATURAL_SIZE_JS = "(img) => img.complete && img.naturalWidth ? [img.naturalWidth, img.naturalHeight] : null"


def _shown_image(pane, caption: str = "") -> list[int]:
    """The pixel size of the viewer's image, once its caption holds `caption` and the image has loaded."""
    pane.get_by_text(re.compile(caption)).first.wait_for(timeout=30000)
    image = pane.locator("[data-testid='stImage'] img").first
    pane.page.wait_for_function("(img) => img.complete && img.naturalWidth", arg=image.element_handle(),
                                timeout=30000)
    return image.evaluate(NATURAL_SIZE_JS)


def test_zooming_the_viewer_enlarges_the_part_chosen_and_a_new_image_starts_whole(browser_app, page):
    url, home, _ = browser_app
    frame = Catalog(home).frame().sort_values("width")
    row = frame.iloc[-1]  # the widest image: shown at its own resolution
    assert row["width"] <= 2048
    page.goto(f"{url}/explore?image={row['id']}")
    wait_for_app(page)
    pane = page.locator(".st-key-explore_viewer_pane")
    assert _shown_image(pane, "px original") == [row["width"], row["height"]]

    zoom = pane.get_by_role("slider").first
    zoom.focus()
    zoom.press("ArrowRight")
    zoom.press("ArrowRight")  # 1x, 2x, 4x
    part = _shown_image(pane, "zoomed 4x")
    assert part == [round(row["width"] / 4), round(row["height"] / 4)]
    caption = pane.get_by_text(re.compile("zoomed 4x")).inner_text()
    start, stop = map(int, re.search(r"x (\d+)-(\d+)", caption).groups())
    assert stop - start == part[0] and abs((start + stop) / 2 - row["width"] / 2) <= 1  # the middle

    across = pane.get_by_role("slider").nth(1)
    across.focus()
    across.press("End")  # to the right edge
    right_edge = f"x {row['width'] - part[0]}-{row['width']},"
    assert _shown_image(pane, right_edge) == part

    pane.get_by_role("button", name="Open").first.click()  # a neighbour, in the same session
    page.wait_for_function("(before) => !location.search.includes('image=' + before)", arg=str(row["id"]),
                           timeout=30000)
    wait_for_app(page)
    assert pane.get_by_text(re.compile("zoomed")).count() == 0
    assert pane.get_by_role("slider").first.get_attribute("aria-valuetext") == "1x"


def test_uploading_a_real_image_puts_it_in_the_ranking(browser_app, page):
    url, home, _ = browser_app
    before = Catalog(home).count()
    upload(page, url, SAMPLES_DIR / "mro_ctx_P01_001472_1747.jpg")
    result = page.locator("[data-testid='stMarkdownContainer']").filter(has_text="mro_ctx_P01_001472_1747.jpg")
    result.first.wait_for(timeout=60000)
    assert re.search(rf"rank \d+ of {before + 1}", result.first.inner_text())
    percentile = re.search(r"(\d+)(st|nd|rd|th) percentile", result.first.inner_text())
    assert percentile and percentile.group(0) == f"{ordinal(int(percentile.group(1)))} percentile"
    image_id = Catalog(home).find_by_sha(sha256_file(SAMPLES_DIR / "mro_ctx_P01_001472_1747.jpg"))
    assert image_id is not None and Catalog(home).count() == before + 1
    page.get_by_text("Open in the viewer").click()
    page.wait_for_url(re.compile(rf"/explore\?image={image_id}$"), timeout=30000)
    wait_for_app(page)
    assert viewer_heading(page) == "mro_ctx_P01_001472_1747.jpg"
    page.goto(f"{url}/?image={image_id}")  # the Ranking page's viewer ranks it too
    wait_for_app(page)
    assert viewer_heading(page) == "mro_ctx_P01_001472_1747.jpg"
    assert page.get_by_text(f"of {before + 1}").count() >= 1


def test_uploading_a_broken_file_shows_a_message_and_changes_nothing(browser_app, page, tmp_path):
    url, home, _ = browser_app
    catalog = Catalog(home)
    before = (catalog.count(), catalog.revision())
    broken = tmp_path / "broken_frame.jpg"
    broken.write_bytes((SAMPLES_DIR / "mer_spirit_pancam_PIA08528.jpg").read_bytes()[:3000])
    upload(page, url, broken)
    alert = page.locator("[data-testid='stAlert']").filter(has_text="broken_frame.jpg")
    alert.wait_for(timeout=60000)
    assert "not added" in alert.inner_text() and "readable" in alert.inner_text()
    assert page.locator("[data-testid='stException']").count() == 0
    assert (catalog.count(), catalog.revision()) == before

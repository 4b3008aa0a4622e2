"""The Ranking page as a user meets it, in headless Chromium: the opened image on screen, the gallery, links."""

import os
import re
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from marsviz.catalog import Catalog
from marsviz.scoring import ranked
from tests.browser import CHROMIUM, viewer_heading, wait_for_app, wait_for_heading
from tests.test_opening_browser import tick_ranking_row

pytestmark = pytest.mark.browser

if not Path(CHROMIUM).exists() and not os.environ.get("CI"):
    pytest.skip(f"{CHROMIUM} is not installed (.ci/run installs it)", allow_module_level=True)

HEADING = "[data-testid='stMain'] [data-testid='stMarkdownContainer'] h4"


ON_SCREEN_JS = f"""() => {{
    const heading = document.querySelector("{HEADING}");
    if (!heading) return false;
    const box = heading.getBoundingClientRect();
    return box.top >= 0 && box.bottom <= window.innerHeight;
}}"""


def heading_on_screen(page) -> bool:
    """Whether the viewer's heading lies wholly inside the browser window."""
    return page.evaluate(ON_SCREEN_JS)


def ranking(folder: Path):
    return ranked(Catalog(folder).frame())


def test_a_row_far_down_the_page_opens_beside_it_and_stays_in_view(browser_app, page):
    url, folder, _ = browser_app
    table = ranking(folder)
    page.goto(url)
    wait_for_app(page)
    last = len(table) - 1
    tick_ranking_row(page, last)  # scrolled to the bottom of the table, below the first screen
    wait_for_heading(page, table.iloc[last]["name"][:30])
    wait_for_app(page)
    assert heading_on_screen(page)
    page.mouse.wheel(0, 2000)  # reading on down the list: the viewer stays beside it
    page.wait_for_timeout(500)
    assert heading_on_screen(page)


def test_on_a_phone_the_viewer_is_scrolled_into_view_after_an_open(browser_app):
    url, folder, browser = browser_app
    table = ranking(folder)
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        page.goto(url)
        wait_for_app(page)
        tick_ranking_row(page, 2)
        wait_for_heading(page, table.iloc[2]["name"][:30])
        page.wait_for_function(ON_SCREEN_JS, timeout=10000)  # scrolled (smoothly) to the viewer
        assert page.locator(HEADING).first.bounding_box()["y"] < 0.3 * 844  # with its image below it
    finally:
        context.close()


def test_the_gallery_opens_a_card_and_marks_it(browser_app, page):
    url, folder, _ = browser_app
    table = ranking(folder)
    page.goto(url)
    wait_for_app(page)
    page.get_by_text("Gallery", exact=True).click()
    wait_for_app(page)
    cards = page.locator("[data-testid='stMain'] button").filter(has_text=re.compile(r"^Open$"))
    assert cards.count() == len(table)  # every image of this small catalog fits on the first page
    cards.nth(4).click()
    page.wait_for_url(lambda u: "image=" in u, timeout=20000)
    wait_for_app(page)
    opened = int(parse_qs(urlparse(page.url).query)["image"][0])
    assert opened == int(table.iloc[4]["id"])
    assert viewer_heading(page).startswith(table.iloc[4]["name"][:30]) and heading_on_screen(page)
    assert cards.nth(4).is_disabled()  # the open image's card says it is shown


def test_a_link_restores_the_search_and_sort_and_the_url_follows_changes(browser_app, page):
    url, folder, _ = browser_app
    table = ranking(folder)
    hirise = table[table["name"].str.contains("hirise")]
    assert 1 < len(hirise) < len(table)
    page.goto(f"{url}/?q=HiRISE&sort=name&order=desc")
    wait_for_app(page)
    assert page.get_by_role("textbox", name="Search").input_value() == "HiRISE"
    assert page.get_by_text(f"{len(hirise)} of {len(table)} images match").count() == 1
    tick_ranking_row(page, 0)
    page.wait_for_url(lambda u: "image=" in u, timeout=20000)
    wait_for_app(page)
    assert viewer_heading(page).startswith(hirise.sort_values("name", ascending=False).iloc[0]["name"][:30])
    page.get_by_role("textbox", name="Search").fill("")
    page.get_by_role("textbox", name="Search").press("Enter")
    page.wait_for_url(lambda u: "q=" not in u, timeout=20000)
    wait_for_app(page)
    params = parse_qs(urlparse(page.url).query)
    assert params["sort"] == ["name"] and params["order"] == ["desc"] and "image" in params


def test_the_export_downloads_every_row_the_search_kept(browser_app, page):
    import io

    import pandas as pd

    url, folder, _ = browser_app
    table = ranking(folder)
    hirise = table[table["name"].str.contains("hirise")]
    page.goto(f"{url}/?q=hirise")
    wait_for_app(page)
    page.get_by_role("button", name=re.compile(f"Export {len(hirise)} rows")).click()
    with page.expect_download(timeout=30000) as download:
        page.get_by_test_id("stPopoverBody").get_by_role("button", name="CSV").click()
    exported = pd.read_csv(io.BytesIO(Path(download.value.path()).read_bytes()))
    assert sorted(exported["id"]) == sorted(hirise["id"]) and "edge_ratio" in exported
    # The table's own download would hold one page only: the ranking table offers none, the Export all rows.
    page.locator("[class*='st-key-ranking_table_']").hover()
    toolbar = page.locator("[class*='st-key-ranking_table_'] [data-testid='stElementToolbar'] button")
    toolbar.first.wait_for(state="visible", timeout=10000)
    assert toolbar.count() >= 2 and page.get_by_role("button", name="Download as CSV").count() == 0


def test_the_filters_stay_open_while_one_is_changed_and_their_label_counts_them(browser_app, page):
    url, _, _ = browser_app
    page.goto(url)
    wait_for_app(page)
    page.get_by_text("Filters", exact=True).click()
    page.get_by_text("grayscale", exact=True).click()
    wait_for_app(page)
    assert page.get_by_text("Filters · 1 on: grayscale").count() == 1
    assert page.get_by_text("Outliers only").is_visible()  # the expander did not close under the user
    assert "kind=grayscale" in page.url

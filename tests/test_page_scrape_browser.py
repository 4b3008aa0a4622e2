"""The Scrape page in the real app, driven by headless Chromium, scraping the local NASA server.

AppTest cannot show that the page refreshes itself while a scrape runs (a fragment polling on a
timer); this does.
"""

from __future__ import annotations

import pytest

from browser import app_server, chromium, wait_for_app
from marsviz.catalog import Catalog
from nasa_server import NasaServer

pytestmark = pytest.mark.browser

M20_PAGES = {0: "raw-feeds-mars2020-page0-RECONSTRUCTED.json", 1: "raw-feeds-mars2020-page1-RECONSTRUCTED.json"}


def test_scrape_page_runs_shows_progress_and_links_the_result(tmp_path, monkeypatch):
    for key, value in {"MARSVIZ_HTTP_RATE": "0", "MARSVIZ_HTTP_BACKOFF": "0", "MARSVIZ_HTTP_TIMEOUT": "5",
                       "MARSVIZ_HTTP_CONCURRENCY": "1"}.items():
        monkeypatch.setenv(key, value)
    home = tmp_path / "home"
    home.mkdir()
    server = NasaServer()
    monkeypatch.setenv("MARSVIZ_APP_API_ROOTS", server.root)  # the operator lets the app's visitors use it
    with server, app_server(home) as url, chromium() as browser:
        server.routes["/rss/api/"] = NasaServer.pages("page", M20_PAGES)
        server.image_delay = 1.0  # slow enough for the progress bar to be seen
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        page.goto(f"{url}/scrape")
        wait_for_app(page)
        page.get_by_role("combobox", name="Source").click()
        page.get_by_text("Perseverance (Mars 2020) raw images").click()
        # Choosing a source reruns the page to show that source's fields: open the expander after the rerun.
        page.get_by_role("textbox", name="Cameras, comma-separated").wait_for(timeout=30000)
        wait_for_app(page)
        page.get_by_text("More options").click()
        page.get_by_label("API root", exact=False).first.fill(server.root)
        page.get_by_role("button", name="Start scrape").click()

        page.get_by_role("progressbar").wait_for(timeout=30000)
        page.get_by_text("mars2020: 3 added").wait_for(timeout=60000)  # no reload: the page polls
        assert page.locator("[data-testid='stException']").count() == 0
        page.screenshot(path=str(tmp_path / "scrape-page.png"), full_page=True)

        frame = Catalog(home).frame()
        scraped = frame[frame["source"] == "mars2020"]
        assert len(scraped) == 3
        # The "open in ranking" link of an added image opens it in the Ranking's viewer.
        image_id, name = int(scraped["id"].iloc[0]), scraped["name"].iloc[0]
        page.goto(f"{url}/?image={image_id}")
        wait_for_app(page)
        page.locator("h4", has_text=name).first.wait_for(timeout=30000)  # the viewer's heading, not a table cell
        assert page.locator("[data-testid='stException']").count() == 0

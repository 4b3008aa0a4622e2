"""The review loop as people use it, in headless Chromium: label, reload, Next; two sessions labeling at once."""

import os
import re
from pathlib import Path

import pytest

from marsviz.catalog import Catalog
from marsviz.scoring import ranked
from tests.browser import CHROMIUM, viewer_heading, wait_for_app, wait_for_heading

pytestmark = pytest.mark.browser

if not Path(CHROMIUM).exists() and not os.environ.get("CI"):
    pytest.skip(f"{CHROMIUM} is not installed (.ci/run installs it)", allow_module_level=True)


def pill(page, label: str):
    """The viewer's quick label button `label` (as shown: "not interesting")."""
    return page.locator("[data-testid='stMain'] [data-testid='stButtonGroup'] button").filter(
        has_text=re.compile(f"^{label}$"))


def wait_for_label_line(page, text: str) -> None:
    page.wait_for_function("(text) => [...document.querySelectorAll('[data-testid=stMarkdownContainer]')]"
                           ".some(e => e.innerText.startsWith(text))", arg=text, timeout=30000)


def test_a_label_set_in_the_viewer_is_there_after_a_reload_and_next_skips_reviewed_images(browser_app, page):
    url, folder, _ = browser_app
    table = ranked(Catalog(folder).frame())
    first, second, third, fourth = (table.iloc[i] for i in range(4))
    page.goto(f"{url}/explore?image={first['id']}")
    wait_for_app(page)
    wait_for_heading(page, first["name"][:30])
    pill(page, "interesting").click()
    wait_for_label_line(page, "Your label: interesting")
    assert Catalog(folder).label_of(int(first["id"])).label == "interesting"

    page.reload()
    wait_for_app(page)
    wait_for_heading(page, first["name"][:30])
    wait_for_label_line(page, "Your label: interesting")

    Catalog(folder).set_label(int(third["id"]), "crater")  # reviewed elsewhere (the command line)
    next_button = page.get_by_role("button", name=re.compile("Next not reviewed"))
    next_button.click()
    wait_for_heading(page, second["name"][:30])
    wait_for_app(page)
    assert "image=" + str(second["id"]) in page.url
    page.get_by_role("button", name=re.compile("Next not reviewed")).click()
    wait_for_heading(page, fourth["name"][:30])  # the third is reviewed: skipped
    assert viewer_heading(page).startswith(fourth["name"][:30])


def test_two_sessions_labeling_at_once_lose_nothing_and_a_stale_one_is_told(browser_app):
    url, folder, browser = browser_app
    table = ranked(Catalog(folder).frame())
    shared, own_a, own_b = (int(table.iloc[i]["id"]) for i in (6, 7, 8))
    contexts = [browser.new_context(viewport={"width": 1500, "height": 1100}) for _ in range(2)]
    try:
        ana, bo = (context.new_page() for context in contexts)
        for page in (ana, bo):
            page.goto(f"{url}/explore?image={shared}")
            wait_for_app(page)
        pill(ana, "crater").click()
        wait_for_label_line(ana, "Your label: crater")
        pill(bo, "spider").click()  # Bo's viewer still shows the image unlabeled
        bo.get_by_text("labeled it “crater”").wait_for(timeout=30000)
        assert "not saved" in bo.locator("[data-testid='stAlert']").first.inner_text()
        assert Catalog(folder).label_of(shared).label == "crater"
        wait_for_label_line(bo, "Your label: crater")  # Bo now sees Ana's label

        for page, image_id, label in ((ana, own_a, "dark dune"), (bo, own_b, "slope streak")):
            page.goto(f"{url}/explore?image={image_id}")
            wait_for_app(page)
        pill(ana, "dark dune").click()
        pill(bo, "slope streak").click()
        wait_for_label_line(ana, "Your label: dark dune")
        wait_for_label_line(bo, "Your label: slope streak")
        labels = Catalog(folder).labels().set_index("id")["label"]
        assert (labels[shared], labels[own_a], labels[own_b]) == ("crater", "dark_dune", "slope_streak")
    finally:
        for context in contexts:
            context.close()

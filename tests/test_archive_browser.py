"""Archive products as a user adds them in Chromium: a detached PDS3 label chosen with its data file, and
what the label says shown in the viewer."""

import os
import re
from pathlib import Path

import pytest

from marsviz.catalog import Catalog
from tests.archive_files import pds3_detached, terrain
from tests.browser import CHROMIUM, viewer_heading, wait_for_app

pytestmark = pytest.mark.browser

if not Path(CHROMIUM).exists() and not os.environ.get("CI"):
    pytest.skip(f"{CHROMIUM} is not installed (.ci/run installs it)", allow_module_level=True)


def test_a_label_uploaded_with_its_data_file_is_one_image_with_its_place(browser_app, page, tmp_path):
    url, home, _ = browser_app
    before = Catalog(home).count()
    label, data = pds3_detached(tmp_path, terrain())
    page.goto(f"{url}/upload")
    wait_for_app(page)
    page.locator("input[type='file']").set_input_files([str(label), str(data)])
    result = page.locator("[data-testid='stMarkdownContainer']").filter(has_text=label.name)
    result.first.wait_for(timeout=60000)
    assert re.search(rf"rank \d+ of {before + 1}", result.first.inner_text())
    assert Catalog(home).count() == before + 1  # one product, not a label and a data file
    page.get_by_text("Open in the viewer").click()
    wait_for_app(page)
    assert viewer_heading(page) == label.name
    said = page.get_by_text("From its label:")
    said.wait_for(timeout=30000)
    assert "product ESP_011386_2065_RED · 26.50°N, 0.50°E · 0.25 m/px · incidence 53.2°, emission 4.1°" in \
        said.inner_text()
    assert page.locator("[data-testid='stException']").count() == 0


def test_a_label_uploaded_without_its_data_file_says_what_is_missing(browser_app, page, tmp_path):
    url, home, _ = browser_app
    before = Catalog(home).count()
    label, _ = pds3_detached(tmp_path, terrain())
    page.goto(f"{url}/upload")
    wait_for_app(page)
    page.locator("input[type='file']").set_input_files(str(label))
    alert = page.locator("[data-testid='stAlert']").filter(has_text=label.name)
    alert.wait_for(timeout=60000)
    assert "its data file 'ESP_011386_2065_RED.IMG' was not given with it" in alert.inner_text()
    assert Catalog(home).count() == before and page.locator("[data-testid='stException']").count() == 0

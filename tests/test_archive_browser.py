"""Archive products as a user adds them in Chromium: a detached PDS3 label chosen with its data file, and
what the label says shown in the viewer."""

import os
import re
from pathlib import Path

import pytest

from marsviz.catalog import Catalog
from tests.archive_files import pds3_detached, terrain
from tests.browser import CHROMIUM, viewer_heading, wait_for_app, wait_for_heading

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


PLACES = {"north_polar.IMG": (84.0, 30.0), "gale.IMG": (-5.4, 137.8), "hellas.IMG": (-42.0, 70.0),
          "south_polar.IMG": (-86.0, 300.0)}


def test_clicking_a_place_on_the_map_opens_that_image_and_it_stays_open_on_explore(browser_app, page, tmp_path):
    from marsviz.pipeline import add_bytes
    from marsviz.provenance import Provenance
    from tests.archive_files import placed_product
    url, home, _ = browser_app
    catalog = Catalog(home)
    before = catalog.frame()  # the small set's rover frames, at their landing sites, and this module's products
    per_place = before.dropna(subset=["latitude", "longitude"]).groupby(["longitude", "latitude"])["name"].agg(list)
    for seed, (name, (latitude, longitude)) in enumerate(PLACES.items()):
        assert add_bytes(catalog, placed_product(latitude, longitude, seed), Provenance("file", name)).status == "added"
    page.goto(f"{url}/map")
    wait_for_app(page)
    points = page.locator(".js-plotly-plot g.trace.scatter path.point")
    points.first.wait_for(timeout=30000)
    assert points.count() == len(per_place) + len(PLACES)  # the places of the images whose place is known
    described = [page.evaluate(
        """(el) => {
            const gd = el.closest('.js-plotly-plot');
            const trace = el.closest('g.trace');
            const curve = Array.from(trace.parentNode.children).indexOf(trace);
            const i = el.__data__.i;
            return {name: gd.data[curve].text[i], x: gd.calcdata[curve][i].x, y: gd.calcdata[curve][i].y};
        }""", points.nth(n).element_handle()) for n in range(points.count())]
    position = next(n for n, d in enumerate(described) if d["name"] == "hellas.IMG")
    point, expected = points.nth(position), described[position]
    assert (expected["y"], expected["x"]) == PLACES[expected["name"]]  # drawn at its centre
    box = point.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    wait_for_heading(page, expected["name"])
    page.get_by_role("link", name="Explore").click()
    wait_for_app(page)
    wait_for_heading(page, expected["name"])
    assert viewer_heading(page) == expected["name"]
    assert page.locator("[data-testid='stException']").count() == 0
    # A landing site's frames are one point: a click opens one of them and lists them all.  (The site
    # farthest from this module's products, so that no other point lies under the click.)
    sites = per_place[per_place.map(len) > 1]
    assert len(sites)
    site = sites[max(sites.index, key=lambda place: min(abs(place[0] - longitude) + abs(place[1] - latitude)
                                                        for latitude, longitude in PLACES.values()))]
    page.get_by_role("link", name="Map").click()
    wait_for_app(page)
    points.first.wait_for(timeout=30000)
    position = next(n for n, d in enumerate(described) if d["name"] in site)
    box = points.nth(position).bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    listed = page.get_by_text(f"{len(site)} images selected; the best-scoring one was opened")
    listed.wait_for(timeout=30000)
    assert viewer_heading(page) in site
    assert page.locator("[data-testid='stException']").count() == 0

"""Take the README's screenshots: run the app on the bundled samples in a temporary folder and capture each page.

Usage: ``python docs/make_screenshots.py`` (needs /usr/bin/chromium and playwright).
"""

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser import app_server, chromium, wait_for_app  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
EXPLORE_EXAMPLE = "mro_hirise_mosaic_ripples.png"
UPLOAD_EXAMPLES = ["mer_opportunity_PIA13593_fullres.jpg", "mro_hirise_spider_ESP_049509_1075_RED-0010.jpg"]


def main() -> None:
    from marsviz.catalog import Catalog
    from marsviz.samples import SAMPLES_DIR, load_samples_subset, manifest
    from marsviz.store import sha256_file

    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as home:
        catalog = Catalog(Path(home))
        load_samples_subset(catalog, [n for n in manifest() if n not in UPLOAD_EXAMPLES])
        top = catalog.frame().sort_values("id").iloc[0]["id"]
        with app_server(Path(home)) as url, chromium() as browser:
            page = browser.new_page(viewport={"width": 1500, "height": 1000})
            explore_id = catalog.find_by_sha(sha256_file(SAMPLES_DIR / EXPLORE_EXAMPLE))
            for name, path in [("ranking", f"/?image={top}"), ("explore", f"/explore?image={explore_id}"),
                               ("upload", "/upload"), ("method", "/method")]:
                page.goto(url + path)
                wait_for_app(page)
                if name == "explore":
                    for overlay in ("Dark spots", "Edges"):
                        page.locator("[data-testid='stMain'] [data-testid='stButtonGroup'] button").filter(has_text=overlay).first.click()
                        wait_for_app(page)
                if name == "upload":
                    page.locator("input[type='file']").set_input_files(
                        [str(SAMPLES_DIR / n) for n in UPLOAD_EXAMPLES])
                    page.get_by_text("Open in the viewer").first.wait_for(timeout=60000)
                    wait_for_app(page)
                page.wait_for_timeout(1500)
                page.screenshot(path=str(OUT / f"{name}.png"), full_page=False)
                print(f"wrote {OUT / f'{name}.png'}")


if __name__ == "__main__":
    main()

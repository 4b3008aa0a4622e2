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


def main() -> None:
    from marsviz.catalog import Catalog
    from marsviz.samples import load_samples

    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as home:
        catalog = Catalog(Path(home))
        load_samples(catalog)
        top = catalog.frame().sort_values("id").iloc[0]["id"]
        with app_server(Path(home)) as url, chromium() as browser:
            page = browser.new_page(viewport={"width": 1500, "height": 1000})
            for name, path in [("ranking", f"/ranking?image={top}"), ("explore", "/explore?image=2"),
                               ("upload", "/upload"), ("method", "/method")]:
                page.goto(url + path)
                wait_for_app(page)
                page.wait_for_timeout(1500)
                page.screenshot(path=str(OUT / f"{name}.png"), full_page=False)
                print(f"wrote {OUT / f'{name}.png'}")


if __name__ == "__main__":
    main()

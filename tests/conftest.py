"""Shared fixtures: temporary data folders, a small real catalog, and paths to the bundled samples."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from marsviz.samples import SAMPLES_DIR

#: A few bundled samples of each kind: colour rover frames, grayscale orbital frames, a HiRISE crop.
SMALL_SAMPLE_SET = [
    "global_viking_mdim_hemisphere.png",
    "m2020_mastcamz_ZL0_0038_0670307360.jpg",
    "mer_spirit_pancam_PIA08528.jpg",
    "mgs_moc_na_calibrated.png",
    "mpf_imp_i1246925713_color.png",
    "mpf_imp_i1246925713_gray.png",
    "mro_hirise_crater_ESP_013024_2265_RED-0011.jpg",
    "mro_hirise_spider_ESP_049509_1075_RED-0010.jpg",
    "msl_mr_0838MR0036830020500779I01_DRCL.jpg",
    "viking_orbiter_PIA00407.jpg",
    "msl_ml_0003ML0000000190100039E01_DRCL.jpg",
    "odyssey_themis_mosaic.jpg",
]


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """An empty data folder set as ``MARSVIZ_HOME`` for the test."""
    folder = tmp_path / "home"
    monkeypatch.setenv("MARSVIZ_HOME", str(folder))
    return folder


@pytest.fixture(scope="session")
def _small_catalog_template(tmp_path_factory) -> Path:
    from marsviz.catalog import Catalog
    from marsviz.samples import load_samples_subset

    folder = tmp_path_factory.mktemp("catalog-template")
    load_samples_subset(Catalog(folder), SMALL_SAMPLE_SET)
    return folder


@pytest.fixture
def small_catalog_home(_small_catalog_template, tmp_path, monkeypatch) -> Path:
    """A data folder holding a real catalog of :data:`SMALL_SAMPLE_SET`, set as ``MARSVIZ_HOME``."""
    folder = tmp_path / "home"
    shutil.copytree(_small_catalog_template, folder)
    monkeypatch.setenv("MARSVIZ_HOME", str(folder))
    return folder


@pytest.fixture
def sample_path():
    """Path of a bundled sample by file name."""
    return lambda name: SAMPLES_DIR / name


@pytest.fixture(scope="module")
def browser_app(_small_catalog_template, tmp_path_factory):
    """(base URL, data folder, browser): the app on a copy of the small catalog, and headless Chromium.

    One per test module, so a module's uploads never reach another module's catalog.
    """
    from tests.browser import app_server, chromium

    folder = tmp_path_factory.mktemp("browser") / "home"
    shutil.copytree(_small_catalog_template, folder)
    with app_server(folder) as url, chromium() as browser:
        yield url, folder, browser


@pytest.fixture
def page(browser_app):
    """A new Playwright page of :func:`browser_app`'s browser at 1500x1100, closed after the test."""
    _, _, browser = browser_app
    context = browser.new_context(viewport={"width": 1500, "height": 1100})
    yield context.new_page()
    context.close()

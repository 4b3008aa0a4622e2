"""Defaults in one documented place, each overridable from the environment.

Every setting is a :class:`Setting` in :data:`SETTINGS`; :func:`get` reads the environment variable
``MARSVIZ_<NAME>`` (upper case) first and falls back to the default.  A test checks that every setting
is documented in the README.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Setting:
    """One configurable default."""

    name: str
    default: object
    help: str

    @property
    def env_var(self) -> str:
        return f"MARSVIZ_{self.name.upper()}"


SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in [
        Setting("home", "", "Data folder (catalog, images, thumbnails). Empty: the per-user data directory."),
        Setting("analysis_max_side", 512, "Longest side, in pixels, at which features are computed "
                "(JPEGs are decoded directly at about this size, so large frames cost little)."),
        Setting("thumbnail_side", 256, "Longest side, in pixels, of the thumbnails shown in the app."),
        Setting("max_upload_bytes", 50 * 1024 * 1024, "Largest image file accepted, in bytes."),
        Setting("max_image_pixels", 100_000_000, "Largest image accepted, in pixels (width x height)."),
        Setting("http_timeout", 20.0, "Seconds to wait for a NASA server to connect or send data."),
        Setting("http_retries", 4, "Retries on 429 and 5xx answers and dropped connections."),
        Setting("http_max_retry_after", 120.0, "Longest Retry-After, in seconds, honoured before a run stops."),
        Setting("http_rate", 4.0, "Requests per second, at most, to any one host."),
        Setting("http_concurrency", 4, "Downloads running at once, at most, per host."),
        Setting("max_download_bytes", 60 * 1024 * 1024, "Largest image file downloaded, in bytes."),
        Setting("http_backoff", 0.5, "Seconds before the first retry; doubled on each further retry."),
        Setting("nasa_hosts", "images-api.nasa.gov,images-assets.nasa.gov,mars.nasa.gov,mars.jpl.nasa.gov,"
                "pds-imaging.jpl.nasa.gov,planetarydata.jpl.nasa.gov",
                "Comma-separated hosts a scrape may contact (besides an explicit --api-root)."),
        Setting("scrape_page_size", 100, "Results asked for per page when listing a NASA service."),
        Setting("scrape_max_failures", 10, "Downloads failing in a row after which a scrape stops."),
        Setting("workers", 0, "Processes used to analyse a batch. 0: one per CPU core."),
        Setting("dask_connect_timeout", 30.0, "Seconds to wait for a Dask scheduler (analyze --dask) to answer."),
        Setting("scatter_thin_above", 20000, "Catalog size above which the Explore scatter draws one point per "
                "spot (of images that would overlap: an outlier if any, else the best-ranked) instead of every image."),
        Setting("terrain_tile_side", 227, "Side, in pixels of the analysis image, of the tiles the trained terrain "
                "scores judge one at a time (the labeled HiRISE crops they were trained on are 227 px)."),
        Setting("terrain_model", "", "Trained terrain model file (JSON). Empty: the model shipped in the package."),
    ]
}


def get(name: str):
    """Return the value of setting `name`, from ``MARSVIZ_<NAME>`` if set, else its default.

    Parameters
    ----------
    name : str
        A key of :data:`SETTINGS`.

    Returns
    -------
    object
        The value, converted to the type of the default.
    """
    setting = SETTINGS[name]
    raw = os.environ.get(setting.env_var)
    if raw is None or raw == "":
        return setting.default
    return type(setting.default)(raw)


def home() -> Path:
    """The data folder: ``MARSVIZ_HOME`` if set, else the per-user data directory."""
    configured = get("home")
    if configured:
        return Path(configured).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("marsviz", appauthor=False))

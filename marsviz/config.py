"""Defaults in one documented place, each overridable from the environment.

Every setting is a :class:`Setting` in :data:`SETTINGS`; :func:`get` reads the environment variable
``MARSVIZ_<NAME>`` (upper case) first and falls back to the default.  Values from the environment are
checked against the setting's type and range: a bad one raises :class:`SettingError` naming the
variable and what it accepts, never a failure further down that blames an image or a server.
:func:`check` checks them all at once (the command line and the app call it first).  A test checks
that every setting is documented in the README.

The settings that change what is computed of an image are resolved once per run into an
:class:`AnalysisSettings` and passed down: the feature functions themselves never read the environment.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, fields
from pathlib import Path

from marsviz.errors import SettingError

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@dataclass(frozen=True)
class Setting:
    """One configurable default.

    Attributes
    ----------
    name : str
        Lower-case name; the environment variable is ``MARSVIZ_<NAME>``.
    default : bool, int, float or str
        The value when the variable is unset or empty; its type is the setting's type.
    help : str
        What it sets, for the README and messages.
    minimum : float, optional
        Smallest accepted number (numbers only).
    strict : bool
        The number must be above `minimum`, not equal to it.
    """

    name: str
    default: object
    help: str
    minimum: float | None = None
    strict: bool = False

    @property
    def env_var(self) -> str:
        return f"MARSVIZ_{self.name.upper()}"

    @property
    def accepts(self) -> str:
        """What values are accepted, in words."""
        kind = type(self.default)
        if kind is bool:
            return "1, true, yes or on; 0, false, no or off"
        if kind is str:
            return "text that is not only spaces"
        noun = "a whole number" if kind is int else "a number"
        if self.minimum is None:
            return noun
        bound = f"{self.minimum:g}"
        return f"{noun} above {bound}" if self.strict else f"{noun} of {bound} or more"

    def parse(self, raw: str):
        """The value of `raw` as this setting's type, checked against its range.

        Raises
        ------
        SettingError
            Naming the variable, the value given and what it accepts.
        """
        kind = type(self.default)
        text = raw.strip()
        value = None
        if kind is bool:
            value = True if text.lower() in _TRUE else False if text.lower() in _FALSE else None
        elif kind is str:
            value = raw if text else None
        else:
            try:
                value = kind(text)
            except ValueError:
                value = None
            if value is not None and (not math.isfinite(value) or self._below_minimum(value)):
                value = None
        if value is None:
            raise SettingError(f"{self.env_var}={raw!r} is not accepted: it takes {self.accepts} "
                               f"(default {self.default!r}). It sets: {self.help}")
        return value

    def _below_minimum(self, value: float) -> bool:
        if self.minimum is None:
            return False
        return value <= self.minimum if self.strict else value < self.minimum


SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in [
        Setting("home", "", "Data folder (catalog, images, thumbnails). Empty: the per-user data directory."),
        Setting("analysis_max_side", 512, "Longest side, in pixels, at which features are computed "
                "(JPEGs are decoded directly at about this size, so large frames cost little). A change makes "
                "`analyze` recompute every image.",
                minimum=64),
        Setting("thumbnail_side", 256, "Longest side, in pixels, of the thumbnails shown in the app.",
                minimum=16),
        Setting("max_upload_bytes", 50 * 1024 * 1024, "Largest image file accepted, in bytes.", minimum=1),
        Setting("max_image_pixels", 100_000_000, "Largest image accepted, in pixels (width x height).",
                minimum=256),
        Setting("http_timeout", 20.0, "Seconds to wait for a NASA server to connect or send data.",
                minimum=0, strict=True),
        Setting("http_retries", 4, "Retries on 429 and 5xx answers and dropped connections.", minimum=0),
        Setting("http_max_retry_after", 120.0, "Longest Retry-After, in seconds, honoured before a run stops.",
                minimum=0),
        Setting("http_rate", 4.0, "Requests per second, at most, to any one host.", minimum=0),
        Setting("http_concurrency", 4, "Downloads running at once, at most, per host.", minimum=1),
        Setting("max_download_bytes", 60 * 1024 * 1024, "Largest image file downloaded, in bytes.", minimum=1),
        Setting("http_backoff", 0.5, "Seconds before the first retry; doubled on each further retry.", minimum=0),
        Setting("http_deadline", 300.0, "Longest time, in seconds, one download request may take, from sending it to "
                "the last byte (a server that trickles bytes is abandoned). 0: no limit.", minimum=0),
        Setting("http_json_deadline", 60.0, "Longest time, in seconds, one request to a NASA service's API (a page of "
                "a listing, an asset manifest) may take, from sending it to the last byte. 0: no limit.", minimum=0),
        Setting("app_api_roots", "", "Comma-separated API roots visitors of the web app may scrape from besides "
                "NASA's hosts (e.g. a mirror). Empty: NASA's hosts only. The command line's --api-root is not "
                "limited."),
        Setting("nasa_hosts", "images-api.nasa.gov,images-assets.nasa.gov,mars.nasa.gov,mars.jpl.nasa.gov,"
                "pds-imaging.jpl.nasa.gov,planetarydata.jpl.nasa.gov",
                "Comma-separated hosts a scrape may contact (besides an explicit --api-root)."),
        Setting("scrape_page_size", 100, "Results asked for per page when listing a NASA service.", minimum=1),
        Setting("scrape_max_failures", 10, "Downloads failing in a row after which a scrape stops.", minimum=1),
        Setting("workers", 0, "Processes used to analyse a batch. 0: one per CPU core.", minimum=0),
        Setting("dask_connect_timeout", 30.0, "Seconds to wait for a Dask scheduler (analyze --dask) to answer.",
                minimum=0, strict=True),
        Setting("scatter_thin_above", 20000, "Catalog size above which the Explore scatter draws one point per "
                "spot (of images that would overlap: an outlier if any, else the best-ranked) instead of every image.",
                minimum=0),
        Setting("terrain_tile_side", 227, "Side, in pixels of the analysis image, of the tiles the trained terrain "
                "scores judge one at a time (the labeled HiRISE crops they were trained on are 227 px). A change makes "
                "`analyze` recompute every image.",
                minimum=32),
        Setting("terrain_model", "", "Trained terrain model file (JSON). Empty: the model shipped in the package."),
        Setting("view_model", "", "Trained view model file (JSON). Empty: the model shipped in the package."),
        Setting("read_only", False, "Serve the catalog read-only (a public deployment): browsing, ranking and links "
                "work; the app adds nothing (no Upload or Scrape page) and its catalog refuses every write."),
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
    bool, int, float or str
        The value, of the type of the default.

    Raises
    ------
    SettingError
        If the variable holds a value the setting does not accept.
    """
    setting = SETTINGS[name]
    raw = os.environ.get(setting.env_var)
    if raw is None or raw == "":
        return setting.default
    return setting.parse(raw)


def check() -> None:
    """Check every ``MARSVIZ_*`` variable that is set, so a bad one is reported before any work starts.

    Raises
    ------
    SettingError
        One line per variable that holds a value its setting does not accept.
    """
    problems = []
    for name in SETTINGS:
        try:
            get(name)
        except SettingError as error:
            problems.append(str(error))
    if problems:
        raise SettingError("\n".join(problems))


@dataclass(frozen=True)
class AnalysisSettings:
    """The settings that change what is computed of an image, resolved once and passed down.

    Stored values depend on them, so they are part of each value's version
    (:func:`marsviz.registry.feature_set_version`): values computed under other settings are recomputed.
    The defaults are the documented ones, not the environment's: :meth:`from_environment` reads that.

    Attributes
    ----------
    max_side : int
        Longest side, in pixels, at which an image is decoded and measured (setting ``analysis_max_side``).
    tile_side : int
        Side, in pixels of the analysis image, of the tiles the trained terrain scores judge (setting
        ``terrain_tile_side``).

    Raises
    ------
    SettingError
        If a value is not one its setting accepts (a whole number in its range).
    """

    max_side: int = SETTINGS["analysis_max_side"].default
    tile_side: int = SETTINGS["terrain_tile_side"].default

    #: The setting each field holds.
    SETTING_OF = {"max_side": "analysis_max_side", "tile_side": "terrain_tile_side"}

    def __post_init__(self):
        for field in fields(self):
            setting, value = SETTINGS[self.SETTING_OF[field.name]], getattr(self, field.name)
            if type(value) is not int or setting._below_minimum(value):
                raise SettingError(f"{setting.name}={value!r} is not accepted: it takes {setting.accepts}")

    @classmethod
    def from_environment(cls) -> AnalysisSettings:
        """The settings as the ``MARSVIZ_*`` variables set them, defaults elsewhere.

        Raises
        ------
        SettingError
            If a variable holds a value its setting does not accept.
        """
        return cls(**{field.name: get(cls.SETTING_OF[field.name]) for field in fields(cls)})

    def version_parts(self) -> list[str]:
        """``setting=value`` for each setting, as the stored values' version hashes them."""
        return [f"{self.SETTING_OF[field.name]}={getattr(self, field.name)}" for field in fields(self)]


def home() -> Path:
    """The data folder: ``MARSVIZ_HOME`` if set, else the per-user data directory."""
    configured = get("home")
    if configured:
        return Path(configured).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("marsviz", appauthor=False))

"""Check a data folder: the database file, and every stored image against its content hash.

A stored image is named by the SHA-256 of its bytes, so a file that no longer hashes to its name was
changed behind the catalog's back (a disk error, an editor, a partial copy).  Such a file is moved
aside into ``damaged/`` (nothing is deleted), so re-adding the original restores it: the pipeline
restores a stored copy it finds missing.  Thumbnails are derived data and are rebuilt when missing.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from marsviz.catalog import Catalog
from marsviz.decode import load_image
from marsviz.errors import CatalogError, ImageRejected
from marsviz.pipeline import make_thumbnail
from marsviz.store import sha256_file

DAMAGED_DIR = "damaged"


@dataclass
class IntegrityReport:
    """What :func:`check_catalog` found.

    Attributes
    ----------
    checked : int
        Images whose stored file was read.
    database : list of str
        Problems SQLite's integrity check reports in the database file (empty: sound).
    missing : list of (int, str, Path)
        Id, name and expected path of each image whose stored file is gone.
    damaged : list of (int, str, Path)
        Id, name and new place (under ``damaged/``) of each stored file that did not match its hash.
    thumbnails_rebuilt : int
        Missing or empty thumbnails made again from the stored image.
    """

    checked: int = 0
    database: list = field(default_factory=list)
    missing: list = field(default_factory=list)
    damaged: list = field(default_factory=list)
    thumbnails_rebuilt: int = 0

    @property
    def ok(self) -> bool:
        """True when the database is sound and every stored image is there and intact."""
        return not (self.database or self.missing or self.damaged)


def check_catalog(catalog: Catalog, progress: Callable[[int, int], None] | None = None) -> IntegrityReport:
    """Check the database and hash every stored image; move damaged files aside, rebuild thumbnails.

    Parameters
    ----------
    catalog : Catalog
        A catalog that may be written (damaged files are moved, thumbnails written).
    progress : callable, optional
        Called as ``progress(done, total)`` after each image.

    Returns
    -------
    IntegrityReport

    Raises
    ------
    CatalogError
        If the catalog cannot be read at all, or a damaged file cannot be moved aside.
    """
    report = IntegrityReport(database=catalog.integrity_problems(thorough=True))
    if report.database:
        return report  # rows read from a damaged file cannot be trusted
    rows = catalog.frame(include_synthetic=False)[["id", "name", "sha256", "extension"]].to_dict("records")
    for done, row in enumerate(rows, start=1):
        stored = catalog.image_path(row)
        try:
            actual = sha256_file(stored)
        except FileNotFoundError:
            report.missing.append((int(row["id"]), row["name"], stored))
            actual = None
        except OSError as error:
            raise CatalogError(f"cannot read {stored} ({error.strerror or error})") from None
        if actual is not None and actual != row["sha256"]:
            report.damaged.append((int(row["id"]), row["name"], _move_aside(catalog, stored)))
        elif actual is not None:
            report.checked += 1
            report.thumbnails_rebuilt += _rebuild_thumbnail(catalog, row, stored)
        if progress:
            progress(done, len(rows))
    return report


def _move_aside(catalog: Catalog, stored: Path) -> Path:
    target = Path(catalog.home) / DAMAGED_DIR / stored.name
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(stored, target)
    except OSError as error:
        raise CatalogError(f"cannot move the damaged file {stored} aside ({error.strerror or error})") from None
    return target


def _rebuild_thumbnail(catalog: Catalog, row: dict, stored: Path) -> int:
    thumbnail = catalog.thumbnail_path(row)
    if thumbnail.is_file() and thumbnail.stat().st_size > 0:
        return 0
    try:
        pixels = load_image(stored, name=row["name"]).pixels
    except ImageRejected:
        return 0  # an image accepted once and refused now (a lower limit); nothing to draw it from
    catalog.thumbnails.put_bytes(make_thumbnail(pixels), row["sha256"], ".jpg", replace=True)
    return 1

"""The bundled sample set: 71 real NASA/JPL Mars images (public domain) with their provenance."""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Callable

from marsviz.catalog import Catalog
from marsviz.pipeline import AddResult, add_paths
from marsviz.provenance import Provenance

SAMPLES_DIR = Path(__file__).parent / "samples"
MANIFEST = SAMPLES_DIR / "MANIFEST.csv"

#: Credit line per mission, as the image owners ask to be credited.
CREDITS = {
    "MSL Curiosity": "NASA/JPL-Caltech/MSSS",
    "Mars 2020 Perseverance": "NASA/JPL-Caltech/ASU",
    "MRO": "NASA/JPL-Caltech/University of Arizona",
    "Mars Global Surveyor": "NASA/JPL-Caltech/MSSS",
    "Viking Orbiter": "NASA/JPL-Caltech/USGS",
    "Mars Odyssey": "NASA/JPL-Caltech/ASU",
    "Mars Pathfinder (Carl Sagan Memorial Station)": "NASA/JPL",
}
DEFAULT_CREDIT = "NASA/JPL-Caltech"


def manifest() -> dict[str, dict]:
    """The manifest rows by file name."""
    with open(MANIFEST, newline="", encoding="utf-8") as handle:
        return {row["file"]: row for row in csv.DictReader(handle)}


def provenance_of(row: dict) -> Provenance:
    """Catalog provenance of one manifest row.

    The manifest's notes are curation records (conversions, repository commits), not a description of
    the image, so they stay in ``MANIFEST.csv``: only the sol and a data set's DOI are taken from them.
    """
    sol = re.search(r"\bsol (\d+)", row.get("notes", ""))
    doi = re.search(r"DOI (10\.\S+?)[;,)]?(?:\s|$)", row.get("notes", ""))
    credit = CREDITS.get(row["mission"], DEFAULT_CREDIT)
    if "Cornell" in row.get("notes", ""):
        credit = "NASA/JPL/Cornell"
    return Provenance(
        source="sample", name=row["file"], source_id=row["nasa_id_or_product_id"], mission=row["mission"],
        instrument=row["instrument_or_kind"], sol=int(sol.group(1)) if sol else None,
        credit=credit + (f" (dataset DOI {doi.group(1)})" if doi else ""),
        file_url=f"{row['source_repo']}/{row['source_path']}")


def load_samples(catalog: Catalog, progress: Callable[[int, int, AddResult], None] | None = None,
                 workers: int | None = None) -> list[AddResult]:
    """Add every bundled sample to `catalog` (samples already there are reported as duplicates).

    Parameters
    ----------
    catalog : Catalog
    progress : callable, optional
        Called as ``progress(done, total, result)`` after each file.
    workers : int, optional
        Analysis processes.
    """
    return load_samples_subset(catalog, list(manifest()), progress, workers)


def load_samples_subset(catalog: Catalog, names: list[str],
                        progress: Callable[[int, int, AddResult], None] | None = None,
                        workers: int | None = None) -> list[AddResult]:
    """Like :func:`load_samples` for the named sample files only."""
    rows = manifest()
    files = [SAMPLES_DIR / name for name in names]
    results = []
    for done, result in enumerate(add_paths(catalog, files, lambda p: provenance_of(rows[p.name]), workers), 1):
        results.append(result)
        if progress:
            progress(done, len(files), result)
    return results

"""Fill the catalog in ``MARSVIZ_HOME`` with N synthetic rows for scale tests: ``make_catalog.py --rows N``.

Every row's image is real: one of the bundled samples, analysed once, its file and thumbnail
hard-linked (symlinked across filesystems) under a row-specific content name, so 100,000 rows cost
seconds and almost no disk.  The rows carry the sample's real size and feature values, and are
marked ``synthetic`` (source ``synthetic``) so they never mix with a user's data:
``Catalog.frame(include_synthetic=False)`` leaves them out.  Re-running adds only missing rows.

The bundled set has 71 images, so without ``--jitter`` the rows sit on 71 spots of any scatter plot.
``--jitter SD`` adds Gaussian noise of that standard deviation (clipped to [0, 1]) to each stored
feature value, spreading the rows out like a real catalog would be, for tests of the app's plots; the
images are still real, their values then only near the image's own.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from common import sample_files

from marsviz.catalog import Catalog
from marsviz.decode import read_bounded
from marsviz.config import AnalysisSettings
from marsviz.registry import REGISTRY, feature_set_version
from marsviz.pipeline import analyse
from marsviz.provenance import Provenance
from marsviz.samples import manifest, provenance_of

#: Rows written per transaction.
BATCH = 20_000


def analysed_samples(catalog: Catalog) -> list[tuple[object, Provenance]]:
    """Each bundled sample analysed once, its file and thumbnail put in the store."""
    rows, settings = manifest(), AnalysisSettings.from_environment()
    analysed = []
    for path in sample_files():
        data = read_bounded(path, path.name)
        analysis = analyse(data, path.name, settings)
        catalog.images.put_bytes(data, analysis.sha256, analysis.extension)
        catalog.thumbnails.put_bytes(analysis.thumbnail_jpeg, analysis.sha256, ".jpg")
        analysed.append((analysis, provenance_of(rows[path.name])))
    return analysed


def _link(source: Path, target: Path) -> None:
    if target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        os.symlink(source, target)


def synthetic_sha(index: int, real_sha: str) -> str:
    """A stable, unique content name for synthetic row `index` showing the image `real_sha`."""
    return hashlib.sha256(f"marsviz-synthetic:{index}:{real_sha}".encode()).hexdigest()


def make_catalog(catalog: Catalog, rows: int, progress=print, jitter: float = 0.0, seed: int = 0) -> int:
    """Add synthetic rows 0 .. `rows` - 1 (those missing); return how many were added.

    Synthetic rows left by another feature-set version (an upgrade since they were made) get the
    current values too, as ``analyze`` would give them, without decoding anything again.

    Parameters
    ----------
    catalog : Catalog
    rows : int
    progress : callable
        Called with a line of text after each batch.
    jitter : float
        Standard deviation of the noise added to each feature value (0: the sample's own values).
    seed : int
        Seed of that noise (each row's noise depends on the seed and the row's index only).
    """
    samples = analysed_samples(catalog)
    version = feature_set_version()
    added_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    added = 0
    for start in range(0, rows, BATCH):
        batch = []
        for index in range(start, min(rows, start + BATCH)):
            analysis, provenance = samples[index % len(samples)]
            sha = synthetic_sha(index, analysis.sha256)
            _link(catalog.images.path_for(analysis.sha256, analysis.extension),
                  catalog.images.path_for(sha, analysis.extension))
            _link(catalog.thumbnails.path_for(analysis.sha256, ".jpg"), catalog.thumbnails.path_for(sha, ".jpg"))
            fields = provenance.as_dict()
            fields.update(source="synthetic", name=f"synthetic-{index:06d}-{provenance.name}", source_id="",
                          description="", synthetic=1)
            batch.append({"sha256": sha, "extension": analysis.extension, "width": analysis.width,
                          "height": analysis.height, "is_color": int(analysis.is_color), **fields,
                          "added_at": added_at, "feature_version": version,
                          **_row_features(index, analysis, jitter, seed)})
        added += catalog.insert_many(batch)
        progress(f"{min(rows, start + BATCH):,} of {rows:,} rows")
    stale = [row for row in catalog.stale(version) if row["name"].startswith("synthetic-")]
    for start in range(0, len(stale), BATCH):
        updates = []
        for row in stale[start:start + BATCH]:
            index = int(row["name"].split("-", 2)[1])
            updates.append((row["id"], _row_features(index, samples[index % len(samples)][0], jitter, seed)))
        catalog.update_features(updates, version)
        progress(f"{min(len(stale), start + BATCH):,} of {len(stale):,} stale synthetic rows updated")
    return added


def _row_features(index: int, analysis, jitter: float, seed: int) -> dict[str, float]:
    """The values stored for synthetic row `index`: its sample's, plus that row's own noise on each feature
    value (annotations, such as the view, are kept as they are)."""
    if not jitter:
        return dict(analysis.features)
    noise = np.random.default_rng((seed, index)).normal(0, jitter, len(analysis.features))
    return {name: (value if value is None or name not in REGISTRY
                   or (name == "colour_variation" and not analysis.is_color)
                   else float(np.clip(value + delta, 0, 1)))
            for (name, value), delta in zip(analysis.features.items(), noise)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, required=True, help="number of synthetic rows")
    parser.add_argument("--home", type=Path, default=None, help="data folder (default: $MARSVIZ_HOME)")
    parser.add_argument("--jitter", type=float, default=0.0, help="noise (standard deviation) added to each "
                        "feature value so the rows spread out in plots (default 0: the samples' own values)")
    args = parser.parse_args()
    start = time.perf_counter()
    catalog = Catalog(args.home)
    added = make_catalog(catalog, args.rows, progress=lambda text: print(text, file=sys.stderr),
                         jitter=args.jitter)
    print(f"{added:,} synthetic rows added in {time.perf_counter() - start:.1f} s; {catalog.home} holds "
          f"{catalog.count():,} images ({catalog.count(include_synthetic=False):,} not synthetic)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

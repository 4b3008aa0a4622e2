"""benchmarks/make_catalog.py: synthetic rows are real images, marked synthetic, and kept apart."""

import sys
from pathlib import Path

from PIL import Image

from marsviz.catalog import Catalog
from marsviz.samples import manifest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from make_catalog import make_catalog  # noqa: E402


def test_synthetic_rows_are_real_images_marked_and_kept_apart(tmp_path):
    catalog = Catalog(tmp_path)
    samples = len(manifest())
    rows = samples + 9
    assert make_catalog(catalog, rows, progress=lambda text: None) == rows
    frame = catalog.frame()
    assert len(frame) == rows and frame["synthetic"].all() and (frame["source"] == "synthetic").all()
    assert catalog.count(include_synthetic=False) == 0 and catalog.frame(include_synthetic=False).empty
    for row in frame.sample(5, random_state=0).to_dict(orient="records"):
        with Image.open(catalog.image_path(row)) as image:
            assert image.size == (row["width"], row["height"])
        assert catalog.thumbnail_path(row).exists()
    # Rows showing the same sample carry that sample's values; a re-run adds nothing.
    first, again = frame.iloc[0], frame.iloc[samples]
    assert first["name"].split("-", 2)[2] == again["name"].split("-", 2)[2]
    assert first["edge_ratio"] == again["edge_ratio"]
    assert make_catalog(catalog, rows, progress=lambda text: None) == 0


def test_jitter_spreads_values_within_range(tmp_path):
    catalog = Catalog(tmp_path)
    rows = 2 * len(manifest())
    make_catalog(catalog, rows, progress=lambda text: None, jitter=0.05)
    frame = catalog.frame()
    values = frame["dark_spot_ratio"].to_numpy()
    assert ((values >= 0) & (values <= 1)).all()
    assert frame["dark_spot_ratio"].nunique() > len(manifest())


def test_rows_left_stale_by_a_feature_change_are_brought_up_to_date(tmp_path, monkeypatch):
    import dataclasses

    from marsviz.registry import REGISTRY, feature_set_version

    catalog = Catalog(tmp_path)
    rows = len(manifest()) + 3
    make_catalog(catalog, rows, progress=lambda text: None, jitter=0.05)
    before = catalog.frame().set_index("id")
    name = "edge_ratio"
    monkeypatch.setitem(REGISTRY, name, dataclasses.replace(REGISTRY[name], version=REGISTRY[name].version + "x"))
    assert len(catalog.stale(feature_set_version())) == rows
    assert make_catalog(catalog, rows, progress=lambda text: None, jitter=0.05) == 0
    after = catalog.frame().set_index("id")
    assert catalog.stale(feature_set_version()) == []
    assert after[name].equals(before[name])  # same seed: the same per-row values

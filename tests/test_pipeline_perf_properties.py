"""Performance properties of the pipeline, asserted without timing anything.

Re-runs analyse nothing that is current; a changed feature version recomputes exactly the stale rows;
the process pool gives the sequential results, in order; memory does not grow with the batch and stays
far below a full-resolution copy of the largest frame.
"""

from __future__ import annotations

import dataclasses
import os
import tracemalloc

import pytest

from marsviz import pipeline
from marsviz.catalog import Catalog
from marsviz.config import AnalysisSettings
from marsviz.errors import MarsvizError
from marsviz.registry import REGISTRY, feature_names, feature_set_version
from marsviz.runner import LocalRunner
from marsviz.samples import SAMPLES_DIR

from conftest import SMALL_SAMPLE_SET

#: The bundled frame with the most pixels (2048 x 4676 RGB).
LARGEST = "mro_hirise_ESP_037117_1755_color_browse_fullres.jpg"


@pytest.fixture
def counted(monkeypatch):
    """Names of the files the pipeline decodes (stored files are named by content hash), in call order.

    Counts only analyses run in this process, so the tests pass ``workers=1``.
    """
    calls = []
    real_load = pipeline.load_image

    def load_image(data, name=None, **kwargs):
        calls.append(name)
        return real_load(data, name=name, **kwargs)
    monkeypatch.setattr(pipeline, "load_image", load_image)
    return calls


def test_rerun_with_current_versions_analyses_nothing(small_catalog_home, counted):
    catalog = Catalog(small_catalog_home)
    assert pipeline.reanalyse(catalog, workers=1).updated == 0
    results = list(pipeline.add_paths(catalog, [SAMPLES_DIR / n for n in SMALL_SAMPLE_SET], workers=1))
    assert {r.status for r in results} == {"duplicate"}
    assert counted == []


def test_stale_rows_and_only_those_are_recomputed(small_catalog_home, counted):
    catalog = Catalog(small_catalog_home)
    before = catalog.frame().set_index("id")
    stale_ids = [int(i) for i in before.index[::3]]
    # Pretend these rows were analysed by an older feature set, with values that are now wrong.
    catalog.update_features([(i, {n: 0.5 for n in feature_names()}) for i in stale_ids], "older-version")
    assert pipeline.reanalyse(catalog, workers=1).updated == len(stale_ids)
    stale_rows = before.loc[stale_ids, ["sha256", "extension"]].itertuples(index=False)
    stored_names = [f"{sha}{extension}" for sha, extension in stale_rows]
    assert sorted(counted) == sorted(stored_names)
    after = catalog.frame().set_index("id")
    assert (after["feature_version"] == feature_set_version()).all()
    assert after[feature_names()].equals(before[feature_names()])  # recomputed values equal the originals


def test_bumping_one_feature_version_recomputes_every_row_once(small_catalog_home, counted, monkeypatch):
    catalog = Catalog(small_catalog_home)
    name = "water_ice_ratio"
    monkeypatch.setitem(REGISTRY, name, dataclasses.replace(REGISTRY[name], version=REGISTRY[name].version + "b"))
    assert pipeline.reanalyse(catalog, workers=1).updated == catalog.count()
    assert len(counted) == catalog.count()
    assert pipeline.reanalyse(catalog, workers=1).updated == 0
    assert len(counted) == catalog.count()


def test_process_pool_gives_the_sequential_results_in_order():
    files = [SAMPLES_DIR / n for n in SMALL_SAMPLE_SET]
    broken = SAMPLES_DIR / "MANIFEST.csv"  # not an image: rejected in the worker, not raised
    batch = files[:5] + [broken] + files[5:]
    task = pipeline.ImageTask(AnalysisSettings(), features_only=True)
    sequential = list(LocalRunner(1).map(task, batch))
    pooled = list(LocalRunner(2).map(task, batch))
    assert [p for p, _ in pooled] == batch
    assert [type(r) for _, r in pooled] == [type(r) for _, r in sequential]
    assert [r for _, r in pooled if isinstance(r, dict)] == [r for _, r in sequential if isinstance(r, dict)]


def _exit_worker(path: str):
    os._exit(3)


def test_a_dead_worker_is_a_marsviz_error():
    with pytest.raises(MarsvizError, match="stopped unexpectedly"):
        list(LocalRunner(2).map(_exit_worker, [SAMPLES_DIR / n for n in SMALL_SAMPLE_SET[:3]]))


def _peak_bytes(paths) -> int:
    """Peak Python/numpy memory while analysing `paths` in this process, results discarded as they come."""
    tracemalloc.start()
    try:
        for _ in LocalRunner(1).map(pipeline.ImageTask(AnalysisSettings()), paths):
            pass
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_does_not_grow_with_the_batch():
    files = [SAMPLES_DIR / n for n in SMALL_SAMPLE_SET]
    once, four_times = _peak_bytes(files), _peak_bytes(files * 4)
    assert four_times <= once * 1.2 + 1_000_000


def test_largest_frame_never_exists_at_full_resolution_in_float():
    full_resolution_float32 = 2048 * 4676 * 3 * 4
    assert _peak_bytes([SAMPLES_DIR / LARGEST]) < full_resolution_float32 / 4

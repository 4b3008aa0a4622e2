"""The Dask path: ``analyze --dask`` computes exactly what the local process pool computes."""

from __future__ import annotations

import dataclasses
import sys

import pytest

from marsviz import cli
from marsviz.catalog import Catalog
from marsviz.config import AnalysisSettings
from marsviz.errors import ImageRejected, MarsvizError
from marsviz.registry import ANNOTATIONS, REGISTRY, feature_names, feature_set_version
from marsviz.pipeline import reanalyse

distributed = pytest.importorskip("dask.distributed")

from marsviz.distributed import ClusterMismatch, connect, dask_runner, features_on_worker  # noqa: E402


@pytest.fixture(scope="module")
def cluster():
    """A real Dask cluster (one in-process worker, two threads) listening on TCP at 127.0.0.1."""
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, protocol="tcp",
                                  host="127.0.0.1", dashboard_address=None) as local:
        yield local


def _make_stale(monkeypatch, tag: str) -> str:
    """Bump one feature's version, as a changed feature would; return the new feature-set version."""
    name = "edge_ratio"
    bumped = dataclasses.replace(REGISTRY[name], version=f"{REGISTRY[name].version}-{tag}")
    monkeypatch.setitem(REGISTRY, name, bumped)
    return feature_set_version()


def _values(catalog: Catalog):
    frame = catalog.frame()
    return frame.set_index("id")[[*feature_names(), "feature_version"]].sort_index()


def test_dask_results_are_identical_to_the_local_pool(small_catalog_home, cluster, monkeypatch):
    catalog = Catalog(small_catalog_home)
    count = catalog.count()
    version = _make_stale(monkeypatch, "local")
    assert reanalyse(catalog, workers=1).updated == count
    local = _values(catalog)
    assert (local["feature_version"] == version).all()

    version = _make_stale(monkeypatch, "dask")
    assert len(catalog.stale(version)) == count
    done = []
    assert reanalyse(catalog, progress=lambda d, t: done.append((d, t)),
                     runner=dask_runner(cluster.scheduler_address)).updated == count
    on_dask = _values(catalog)
    assert (on_dask["feature_version"] == version).all()
    assert on_dask[feature_names()].equals(local[feature_names()])
    assert done[-1] == (count, count)


def test_cli_analyze_with_dask(small_catalog_home, cluster, monkeypatch, capsys):
    catalog = Catalog(small_catalog_home)
    version = _make_stale(monkeypatch, "cli")
    assert cli.main(["analyze", "--dask", cluster.scheduler_address]) == 0
    assert f"{catalog.count()} images re-analysed" in capsys.readouterr().out
    assert catalog.stale(version) == []
    assert cli.main(["analyze", "--dask", cluster.scheduler_address]) == 0
    assert "0 images re-analysed" in capsys.readouterr().out


def test_unreadable_stored_file_is_skipped_and_stays_stale(small_catalog_home, cluster, monkeypatch):
    catalog = Catalog(small_catalog_home)
    victim = catalog.frame().iloc[0]
    catalog.image_path(victim).write_bytes(b"not an image any more")
    version = _make_stale(monkeypatch, "broken")
    reanalyse(catalog, runner=dask_runner(cluster.scheduler_address))
    assert [row["id"] for row in catalog.stale(version)] == [int(victim["id"])]


def test_worker_with_another_feature_set_refuses(sample_path):
    data = sample_path("odyssey_themis_mosaic.jpg").read_bytes()
    with pytest.raises(ClusterMismatch):
        features_on_worker(data, "odyssey_themis_mosaic.jpg", AnalysisSettings(), "not-this-version")
    values = features_on_worker(data, "odyssey_themis_mosaic.jpg", AnalysisSettings(), feature_set_version())
    assert set(values) == {*feature_names(), *ANNOTATIONS}
    assert isinstance(features_on_worker(b"garbage", "x.jpg", AnalysisSettings(), feature_set_version()), ImageRejected)


def test_mismatch_on_the_cluster_stops_the_run(small_catalog_home, cluster, monkeypatch):
    catalog = Catalog(small_catalog_home)
    _make_stale(monkeypatch, "mismatch")
    monkeypatch.setattr("marsviz.distributed.feature_set_version", lambda settings=None: "client-differs")
    with pytest.raises(ClusterMismatch):
        reanalyse(catalog, runner=dask_runner(cluster.scheduler_address))


def test_unreachable_scheduler_is_a_marsviz_error():
    with pytest.raises(MarsvizError, match="cannot reach the Dask scheduler"):
        connect("tcp://127.0.0.1:9", timeout=1)


def test_missing_dask_is_a_clear_marsviz_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "dask.distributed", None)
    with pytest.raises(MarsvizError, match=r"marsviz\[dask\]"):
        connect("tcp://127.0.0.1:8786")

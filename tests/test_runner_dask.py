"""The Dask path: ``analyze --dask`` computes exactly what the local process pool computes."""

from __future__ import annotations

import dataclasses
import sys

import pytest

from marsviz import cli
from marsviz.catalog import Catalog
from marsviz.config import AnalysisSettings
from marsviz.decode import EncodedFile
from marsviz.errors import ClusterMismatch, ImageRejected, MarsvizError
from marsviz.pipeline import ImageTask, reanalyse
from marsviz.registry import ANNOTATIONS, DESCRIPTORS, REGISTRY, appearance_names, feature_names, feature_set_version
from marsviz.runner import DaskRunner, connect

distributed = pytest.importorskip("dask.distributed")


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
                     runner=DaskRunner(cluster.scheduler_address)).updated == count
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
    reanalyse(catalog, runner=DaskRunner(cluster.scheduler_address))
    assert [row["id"] for row in catalog.stale(version)] == [int(victim["id"])]


def test_worker_with_another_feature_set_refuses(sample_path):
    shipped = EncodedFile.read(sample_path("odyssey_themis_mosaic.jpg"))
    with pytest.raises(ClusterMismatch):
        ImageTask(AnalysisSettings(), features_only=True, version="not-this-version")(shipped)
    values = ImageTask(AnalysisSettings(), features_only=True)(shipped)
    assert set(values) == {*appearance_names(), *ANNOTATIONS, DESCRIPTORS}
    assert isinstance(ImageTask(AnalysisSettings())(EncodedFile("x.jpg", b"garbage")), ImageRejected)


def test_mismatch_on_the_cluster_stops_the_run(small_catalog_home, cluster):
    catalog = Catalog(small_catalog_home)
    paths = [catalog.image_path(row) for row in catalog.frame().to_dict(orient="records")]
    made_elsewhere = ImageTask(AnalysisSettings(), features_only=True, version="client-differs")
    with pytest.raises(ClusterMismatch, match="client-differs"):
        list(DaskRunner(cluster.scheduler_address).map(made_elsewhere, paths))


def test_a_file_refused_on_the_client_never_reaches_the_cluster(tmp_path, cluster):
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    [(path, outcome)] = DaskRunner(cluster.scheduler_address).map(ImageTask(AnalysisSettings()), [empty])
    assert path == empty and isinstance(outcome, ImageRejected) and outcome.reason == "file is empty"


def test_unreachable_scheduler_is_a_marsviz_error():
    with pytest.raises(MarsvizError, match="cannot reach the Dask scheduler"):
        connect("tcp://127.0.0.1:9", timeout=1)


def test_missing_dask_is_a_clear_marsviz_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "dask.distributed", None)
    with pytest.raises(MarsvizError, match=r"marsviz\[dask\]"):
        connect("tcp://127.0.0.1:8786")

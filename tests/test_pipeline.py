"""From files to catalog rows: added, duplicate, rejected; stored by content; re-analysis."""

import dataclasses

import pytest

from marsviz import pipeline
from marsviz.catalog import Catalog
from marsviz.config import AnalysisSettings
from marsviz.registry import REGISTRY, feature_set_version
from marsviz.provenance import Provenance
from marsviz.runner import LocalRunner
from marsviz.store import sha256_bytes

SAMPLE = "mer_spirit_pancam_PIA08528.jpg"


def test_upload_is_added_stored_by_hash_with_a_thumbnail(home, sample_path):
    catalog = Catalog()
    data = sample_path(SAMPLE).read_bytes()
    result = pipeline.add_bytes(catalog, data, Provenance(source="upload", name="../../etc/passwd.jpg"))
    assert result.status == "added"
    row = catalog.get(result.image_id)
    assert row["sha256"] == sha256_bytes(data) and row["name"] == "../../etc/passwd.jpg"
    stored = catalog.image_path(row)
    assert stored.read_bytes() == data and stored.name == f"{row['sha256']}.jpg"
    assert catalog.thumbnail_path(row).exists()
    assert not (home.parent / "etc").exists()


def test_same_content_twice_is_a_duplicate(home, sample_path):
    catalog = Catalog()
    data = sample_path(SAMPLE).read_bytes()
    first = pipeline.add_bytes(catalog, data, Provenance(source="upload", name="a.jpg"))
    second = pipeline.add_bytes(catalog, data, Provenance(source="upload", name="b.jpg"))
    assert (second.status, second.image_id) == ("duplicate", first.image_id)
    assert catalog.count() == 1


def test_a_broken_upload_changes_nothing(home, sample_path):
    catalog = Catalog()
    pipeline.add_bytes(catalog, sample_path(SAMPLE).read_bytes(), Provenance(source="upload", name="ok.jpg"))
    revision, files = catalog.revision(), sorted(home.rglob("*"))
    result = pipeline.add_bytes(catalog, sample_path(SAMPLE).read_bytes()[:5000],
                                Provenance(source="upload", name="broken.jpg"))
    assert result.status == "rejected" and "readable" in result.reason
    assert catalog.revision() == revision and catalog.count() == 1
    assert sorted(home.rglob("*")) == files


def test_add_paths_walks_folders_and_reports_each_file(home, sample_path, tmp_path):
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    data = sample_path(SAMPLE).read_bytes()
    (folder / "a.jpg").write_bytes(data)
    (folder / "sub" / "copy.jpg").write_bytes(data)
    (folder / "sub" / "bad.png").write_bytes(b"not a png")
    (folder / "notes.txt").write_text("ignored: not an image suffix")
    results = {r.name: r for r in pipeline.add_paths(Catalog(), [folder], workers=2)}
    assert {n: r.status for n, r in results.items()} == {"a.jpg": "added", "copy.jpg": "duplicate",
                                                         "bad.png": "rejected", "notes.txt": "skipped"}
    assert results["notes.txt"].reason == pipeline.SKIPPED_REASON
    assert results["copy.jpg"].image_id == results["a.jpg"].image_id


def test_batch_results_equal_single_file_results(home, sample_path):
    names = ["mgs_moc_na_calibrated.png", SAMPLE, "mpf_imp_i1246925713_color.png"]
    paths = [sample_path(n) for n in names]
    pooled = {p.name: a.features for p, a in LocalRunner(2).map(pipeline.ImageTask(AnalysisSettings()), paths)}
    for path in paths:
        assert pipeline.analyse(path.read_bytes(), path.name, AnalysisSettings()).features == pooled[path.name]


def test_reanalyse_recomputes_only_stale_rows(home, sample_path, monkeypatch):
    catalog = Catalog()
    for name in ["mgs_moc_na_calibrated.png", SAMPLE]:
        pipeline.add_file(catalog, sample_path(name), Provenance(source="file", name=name))
    assert pipeline.reanalyse(catalog, workers=1).updated == 0
    first = next(iter(REGISTRY))
    monkeypatch.setitem(REGISTRY, first, dataclasses.replace(REGISTRY[first], version="next"))
    assert pipeline.reanalyse(catalog, workers=1).updated == 2
    assert catalog.stale(feature_set_version()) == []
    assert pipeline.reanalyse(catalog, workers=1).updated == 0


def test_add_file_with_move_leaves_no_source_behind(home, sample_path, tmp_path):
    download = tmp_path / "download.part"
    download.write_bytes(sample_path(SAMPLE).read_bytes())
    result = pipeline.add_file(Catalog(), download, Provenance(source="msl", name="x"), move=True)
    assert result.status == "added" and not download.exists()


def test_a_batch_is_analysed_with_the_settings_given_not_the_workers_environment(home, sample_path, monkeypatch):
    names = [SAMPLE, "mgs_moc_na_calibrated.png"]
    small = AnalysisSettings(max_side=256, tile_side=113)
    # The workers inherit an environment that says otherwise: what counts is what the run passes down.
    monkeypatch.setenv("MARSVIZ_ANALYSIS_MAX_SIDE", "1024")
    monkeypatch.setenv("MARSVIZ_TERRAIN_TILE_SIDE", "300")
    catalog = Catalog()
    results = list(pipeline.add_paths(catalog, [sample_path(n) for n in names], workers=2, settings=small))
    assert [r.status for r in results] == ["added", "added"]
    frame = catalog.frame().set_index("name")
    assert set(frame["feature_version"]) == {feature_set_version(small)} != {feature_set_version()}
    for name in names:
        expected = pipeline.analyse(sample_path(name).read_bytes(), name, small).features
        assert frame.loc[name, "landmark_score"] == pytest.approx(expected["landmark_score"], abs=1e-12)
        other = pipeline.analyse(sample_path(name).read_bytes(), name, AnalysisSettings.from_environment())
        assert other.features["landmark_score"] != pytest.approx(expected["landmark_score"], abs=1e-6)
    # Re-analysing with the same settings finds nothing stale; with the environment's, everything.
    assert pipeline.reanalyse(catalog, workers=1, settings=small).stale == 0
    assert pipeline.reanalyse(catalog, workers=1).updated == 2

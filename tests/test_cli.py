"""The command line as a user runs it: real subprocesses on temporary data folders."""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from marsviz.registry import REGISTRY

ROOT = Path(__file__).resolve().parents[1]


def marsviz(home, *args):
    env = {**os.environ, "MARSVIZ_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "marsviz", *map(str, args)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def test_add_reports_each_file_and_fails_when_one_is_rejected(home, sample_path, tmp_path):
    bad = tmp_path / "bad.jpg"
    bad.write_text("not an image")
    result = marsviz(home, "add", sample_path("mgs_moc_na_calibrated.png"), bad, sample_path("mgs_moc_na_calibrated.png"))
    lines = result.stdout.splitlines()
    assert result.returncode == 1
    assert lines[0].startswith("added") and "mgs_moc_na_calibrated.png" in lines[0]
    assert lines[1].startswith("rejected") and "bad.jpg" in lines[1]
    assert lines[2].startswith("duplicate")
    assert "Traceback" not in result.stderr


def test_add_succeeds_when_nothing_is_rejected(home, sample_path):
    assert marsviz(home, "add", sample_path("mgs_moc_na_calibrated.png")).returncode == 0


def test_rank_json_has_the_documented_keys(small_catalog_home):
    result = marsviz(small_catalog_home, "rank", "--top", "5", "--format", "json")
    records = json.loads(result.stdout)
    assert len(records) == 5
    assert {"id", "name", "source", "score", "outlier", "view", "view_confidence", "label", "note",
            *REGISTRY} <= set(records[0])
    scores = [r["score"] for r in records]
    assert scores == sorted(scores, reverse=True)


def test_every_image_is_stored_with_its_view_in_rank_and_export(small_catalog_home, tmp_path):
    records = {r["name"]: r for r in json.loads(marsviz(small_catalog_home, "rank", "--format", "json").stdout)}
    assert all(r["view"] in ("orbital", "surface", "hardware", "other") for r in records.values())
    assert all(0.25 <= r["view_confidence"] <= 1 for r in records.values())
    # A Pathfinder frame and a Perseverance frame of the ground are a lander's or rover's view; a HiRISE crop orbital.
    assert records["mpf_imp_i1246925713_gray.png"]["view"] == "surface"
    assert records["m2020_mastcamz_ZL0_0038_0670307360.jpg"]["view"] == "surface"
    assert records["mro_hirise_crater_ESP_013024_2265_RED-0011.jpg"]["view"] == "orbital"
    marsviz(small_catalog_home, "export", tmp_path / "out.csv")
    exported = pd.read_csv(tmp_path / "out.csv").set_index("name")
    assert (exported["view"] == pd.Series({n: r["view"] for n, r in records.items()})).all()


def test_label_then_rank_json_csv_and_export_carry_label_and_note(small_catalog_home, tmp_path):
    records = json.loads(marsviz(small_catalog_home, "rank", "--format", "json").stdout)
    assert all(r["label"] is None and r["note"] is None for r in records)
    first, second = records[0]["id"], records[1]["id"]
    labeled = marsviz(small_catalog_home, "label", first, "--as", "Swiss cheese", "--note", "pits, maybe",
                      "--by", "ana")
    assert labeled.returncode == 0 and f"image {first} (" in labeled.stdout
    assert "labeled “swiss cheese” by ana" in labeled.stdout
    assert marsviz(small_catalog_home, "label", second, "--as", "not interesting").returncode == 0
    by_id = {r["id"]: r for r in json.loads(marsviz(small_catalog_home, "rank", "--format", "json").stdout)}
    assert (by_id[first]["label"], by_id[first]["note"]) == ("swiss_cheese", "pits, maybe")
    assert (by_id[second]["label"], by_id[second]["note"]) == ("not_interesting", "")
    ranked_csv = marsviz(small_catalog_home, "rank", "--format", "csv").stdout
    rows = {int(r["id"]): r for r in csv.DictReader(ranked_csv.splitlines())}
    assert rows[first]["label"] == "swiss_cheese" and rows[first]["note"] == "pits, maybe"
    marsviz(small_catalog_home, "export", tmp_path / "out.parquet")
    exported = pd.read_parquet(tmp_path / "out.parquet").set_index("id")
    assert exported.loc[first, "label"] == "swiss_cheese" and exported.loc[first, "labeled_by"] == "ana"

    cleared = marsviz(small_catalog_home, "label", first, "--clear")
    assert cleared.returncode == 0 and "label “swiss cheese” removed" in cleared.stdout
    assert "had no label" in marsviz(small_catalog_home, "label", first, "--clear").stdout
    by_id = {r["id"]: r for r in json.loads(marsviz(small_catalog_home, "rank", "--format", "json").stdout)}
    assert by_id[first]["label"] is None and by_id[second]["label"] == "not_interesting"


@pytest.mark.parametrize("args, message", [
    (["label", "999999", "--as", "crater"], "no image with id 999999"),
    (["label", "1", "--as", "  "], "a label cannot be empty"),
    (["label", "1", "--clear", "--note", "x"], "--note goes with --as"),
    (["label", "99999999999999999999", "--as", "crater"], "is not an image id"),
    (["label", "-99999999999999999999", "--clear"], "is not an image id"),
])
def test_label_mistakes_are_one_clear_line(small_catalog_home, args, message):
    result = marsviz(small_catalog_home, *args)
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr


def test_labels_export_and_import_move_labels_to_another_catalog_by_sha256(small_catalog_home, tmp_path, sample_path):
    records = json.loads(marsviz(small_catalog_home, "rank", "--format", "json").stdout)
    spider = next(r for r in records if r["name"].startswith("mro_hirise_spider"))
    marsviz(small_catalog_home, "label", spider["id"], "--as", "spider", "--note", "fans", "--by", "ana")
    another = next(r for r in records if r["id"] != spider["id"])
    marsviz(small_catalog_home, "label", another["id"], "--as", "interesting")
    exported = marsviz(small_catalog_home, "labels", "export", tmp_path / "labels.csv")
    assert exported.returncode == 0 and "wrote 2 labels" in exported.stdout
    assert set(pd.read_csv(tmp_path / "labels.csv").columns) >= {"sha256", "label", "note", "labeled_by", "labeled_at"}

    other = tmp_path / "other"  # holds the spider crop only, under another id
    marsviz(other, "add", sample_path("mgs_moc_na_calibrated.png"), sample_path(spider["name"]))
    imported = marsviz(other, "labels", "import", tmp_path / "labels.csv")
    assert imported.returncode == 0, imported.stderr
    assert "1 image labeled" in imported.stdout and "1 row skipped: no image with that SHA-256" in imported.stdout
    moved = {r["name"]: r for r in json.loads(marsviz(other, "rank", "--format", "json").stdout)}
    assert moved[spider["name"]]["id"] != spider["id"]
    assert (moved[spider["name"]]["label"], moved[spider["name"]]["note"]) == ("spider", "fans")
    assert moved["mgs_moc_na_calibrated.png"]["label"] is None

    broken = tmp_path / "broken.csv"
    broken.write_text("sha256,label\nnot-a-hash,crater\n")
    refused = marsviz(other, "labels", "import", broken)
    assert refused.returncode == 2 and "line 2" in refused.stderr and "nothing was imported" in refused.stderr


def test_rank_table_and_csv(small_catalog_home):
    table = marsviz(small_catalog_home, "rank", "--top", "3")
    assert table.returncode == 0 and "Top Scoring Images" in table.stdout and len(table.stdout.splitlines()) == 5
    rows = list(csv.DictReader(marsviz(small_catalog_home, "rank", "--top", "0", "--format", "csv").stdout.splitlines()))
    assert len(rows) == 12


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_export(small_catalog_home, tmp_path, suffix):
    target = tmp_path / f"out{suffix}"
    assert marsviz(small_catalog_home, "export", target).returncode == 0
    table = pd.read_csv(target) if suffix == ".csv" else pd.read_parquet(target)
    assert len(table) == 12 and {"score", "outlier", *REGISTRY} <= set(table.columns)


def test_export_to_an_unknown_format_is_a_clear_error(small_catalog_home, tmp_path):
    result = marsviz(small_catalog_home, "export", tmp_path / "out.xlsx")
    assert result.returncode == 2 and ".csv or .parquet" in result.stderr and "Traceback" not in result.stderr


def test_samples_then_analyze_is_a_no_op(home):
    loaded = marsviz(home, "samples")
    assert loaded.returncode == 0 and "71 added" in loaded.stdout
    again = marsviz(home, "analyze", "--workers", "1")
    assert again.returncode == 0 and "0 images re-analysed" in again.stdout


def test_analyze_gives_images_stored_before_the_view_model_their_view(small_catalog_home):
    import sqlite3

    with sqlite3.connect(small_catalog_home / "catalog.sqlite") as conn:
        conn.execute("UPDATE images SET view = NULL, view_confidence = NULL, feature_version = 'before-views'")
    before = json.loads(marsviz(small_catalog_home, "rank", "--format", "json").stdout)
    assert {r["view"] for r in before} == {None}
    assert marsviz(small_catalog_home, "analyze").returncode == 0
    after = json.loads(marsviz(small_catalog_home, "rank", "--format", "json").stdout)
    assert None not in {r["view"] for r in after}

"""The command line as a user runs it: real subprocesses on temporary data folders."""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from marsviz.features import REGISTRY

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
    assert {"id", "name", "source", "score", "outlier", *REGISTRY} <= set(records[0])
    scores = [r["score"] for r in records]
    assert scores == sorted(scores, reverse=True)


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

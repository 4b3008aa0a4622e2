"""A data folder damaged behind the catalog's back, and command-line input that used to be misread.

Each test runs the real command line in a subprocess on a temporary data folder, as an operator would.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from marsviz import pipeline
from marsviz.catalog import Catalog
from marsviz.store import sha256_file

ROOT = Path(__file__).resolve().parents[1]


def marsviz(home, *args, timeout=120):
    env = {**os.environ, "MARSVIZ_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "marsviz", *map(str, args)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def frame_file(folder: Path, name: str, colour) -> Path:
    path = folder / name
    Image.new("RGB", (64, 48), colour).save(path)
    return path


@pytest.fixture
def originals(tmp_path) -> list[Path]:
    folder = tmp_path / "originals"
    folder.mkdir()
    return [frame_file(folder, f"frame{i}.png", (40 * i, 90, 200 - 40 * i)) for i in range(3)]


@pytest.fixture
def filled(tmp_path, originals) -> Path:
    home = tmp_path / "home"
    assert marsviz(home, "add", *originals).returncode == 0
    return home


def stored_files(home: Path) -> list[Path]:
    return sorted(p for p in (home / "images").rglob("*") if p.is_file())


def stored_path(home: Path, original: Path) -> Path:
    sha = sha256_file(original)
    return home / "images" / sha[:2] / f"{sha}.png"


# -- item 7: a damaged or emptied catalog file ------------------------------------------------------
def damage_the_middle(catalog_file: Path) -> None:
    with sqlite3.connect(catalog_file) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(catalog_file.read_bytes())
    page = 4096
    middle = (len(data) // page // 2) * page
    data[middle:middle + page] = bytes(range(256)) * (page // 256)
    catalog_file.write_bytes(bytes(data))


def test_a_catalog_damaged_in_its_middle_is_not_written_into(tmp_path):
    home = tmp_path / "home"
    assert marsviz(home, "samples").returncode == 0
    damage_the_middle(home / "catalog.sqlite")
    before = (home / "catalog.sqlite").read_bytes()
    new = frame_file(tmp_path, "new.png", (1, 2, 3))
    added = marsviz(home, "add", new)
    assert added.returncode == 2 and added.stdout == ""
    assert added.stderr.startswith("marsviz: the catalog ") and "is damaged (" in added.stderr
    assert "nothing was written to it" in added.stderr and "Traceback" not in added.stderr
    assert (home / "catalog.sqlite").read_bytes() == before
    assert not stored_path(home, new).exists()


def test_an_emptied_catalog_beside_stored_images_is_not_started_again(filled, originals):
    (filled / "catalog.sqlite").write_bytes(b"")
    for leftover in filled.glob("catalog.sqlite-*"):
        leftover.unlink()
    for command in (["rank"], ["add", originals[0]]):
        result = marsviz(filled, *command)
        assert result.returncode == 2, command
        assert "is empty (0 bytes) but" in result.stderr and "holds stored images" in result.stderr
        assert "Traceback" not in result.stderr
    assert (filled / "catalog.sqlite").stat().st_size == 0  # left for the operator to restore


def test_an_emptied_catalog_moved_aside_is_rebuilt_from_the_store_as_the_message_says(filled):
    (filled / "catalog.sqlite").rename(filled / "catalog.sqlite.bad")
    for leftover in filled.glob("catalog.sqlite-*"):
        leftover.unlink()
    result = marsviz(filled, "add", filled / "images")
    assert result.returncode == 0 and result.stdout.count("added") == 3
    assert Catalog(filled).count() == 3


def test_an_empty_catalog_file_in_an_empty_folder_is_simply_started(tmp_path, originals):
    home = tmp_path / "home"
    home.mkdir()
    (home / "catalog.sqlite").write_bytes(b"")
    assert marsviz(home, "add", originals[0]).returncode == 0


# -- item 8: stored files deleted or emptied -----------------------------------------------------------
def test_re_adding_the_original_restores_a_deleted_or_emptied_stored_file(filled, originals):
    stored_path(filled, originals[0]).unlink()
    stored_path(filled, originals[1]).write_bytes(b"")
    result = marsviz(filled, "add", *originals)
    lines = result.stdout.splitlines()
    assert result.returncode == 0
    restored = "its stored copy was missing or damaged and has been restored from this file"
    assert lines[0].startswith("duplicate") and lines[0].endswith(restored)
    assert lines[1].startswith("duplicate") and lines[1].endswith(restored)
    assert lines[2].startswith("duplicate") and not lines[2].endswith(restored)
    for original in originals:
        assert stored_path(filled, original).read_bytes() == original.read_bytes()
    assert Catalog(filled).count() == 3


def test_uploading_the_original_again_restores_its_stored_file(filled, originals):
    from marsviz.pipeline import add_bytes
    from marsviz.provenance import Provenance

    stored_path(filled, originals[2]).unlink()
    result = add_bytes(Catalog(filled), originals[2].read_bytes(), Provenance(source="upload", name="again.png"))
    assert result.status == "duplicate" and "restored" in result.note
    assert stored_path(filled, originals[2]).read_bytes() == originals[2].read_bytes()


def make_stale(home: Path) -> None:
    with sqlite3.connect(home / "catalog.sqlite") as conn:
        conn.execute("UPDATE images SET feature_version = 'older'")


def test_analyze_counts_and_reports_images_it_could_not_read(filled, originals):
    make_stale(filled)
    stored_path(filled, originals[0]).unlink()
    stored_path(filled, originals[1]).write_bytes(b"")
    result = marsviz(filled, "analyze", "--workers", "1")
    assert result.returncode == 1
    assert result.stdout.splitlines()[-1].startswith("1 images re-analysed; 2 failed and keep their old values")
    failures = [line for line in result.stderr.splitlines() if line.startswith("failed")]
    assert len(failures) == 2 and "frame0.png (id 1): cannot read file" in failures[0]
    assert "frame1.png (id 2): file is empty" in failures[1]
    stale = Catalog(filled).stale("older")
    assert len(stale) == 1  # the readable one is current; the two failures stay stale
    from marsviz.registry import feature_set_version

    assert len(Catalog(filled).stale(feature_set_version())) == 2


def test_check_finds_missing_and_damaged_files_and_moves_damaged_ones_aside(filled, originals):
    stored_path(filled, originals[0]).unlink()
    damaged = stored_path(filled, originals[1])
    damaged.write_bytes(damaged.read_bytes()[:-10] + b"0123456789")
    thumbnail = next((filled / "thumbnails").rglob("*.jpg"))
    thumbnail.unlink()
    result = marsviz(filled, "check")
    lines = result.stdout.splitlines()
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert lines[0].startswith("missing   frame0.png (id 1): ")
    assert lines[1].startswith("damaged   frame1.png (id 2): does not match its hash; moved to ")
    assert (filled / "damaged" / damaged.name).is_file() and not damaged.exists()
    assert lines[2] == ("1 images intact, 1 missing, 1 damaged; 1 thumbnails rebuilt; "
                        "re-add the original files with `marsviz add` to restore them")
    assert thumbnail.is_file()
    # Re-adding the originals repairs both, and the next check is clean.
    assert marsviz(filled, "add", *originals).returncode == 0
    again = marsviz(filled, "check")
    assert again.returncode == 0 and again.stdout.splitlines() == [
        "3 images intact, 0 missing, 0 damaged; 0 thumbnails rebuilt"]


def test_check_reports_a_damaged_database(tmp_path):
    home = tmp_path / "home"
    assert marsviz(home, "samples").returncode == 0
    damage_the_middle(home / "catalog.sqlite")
    result = marsviz(home, "check")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stdout.startswith("database  ") and "is damaged: restore it from a backup" in result.stdout


# -- item 11: input the command line used to misread ----------------------------------------------------
def test_unsupported_files_inside_a_folder_each_get_a_line(tmp_path, originals):
    folder = originals[0].parent
    (folder / "notes.txt").write_text("my notes")
    (folder / "frame0.LBL").write_text("PDS3 label")  # named like a label, but not one
    (folder / "frame0.xml").write_text("<x:xmpmeta xmlns:x='adobe:ns:meta/'/>")  # a photo's sidecar
    result = marsviz(tmp_path / "home", "add", folder)
    assert result.returncode == 0
    assert sorted(line for line in result.stdout.splitlines() if line.startswith("skipped")) == [
        f"skipped   {name}: {pipeline.SKIPPED_REASON}" for name in ("frame0.LBL", "frame0.xml", "notes.txt")]
    assert sum(line.startswith("added") for line in result.stdout.splitlines()) == 3


def test_a_fifo_and_a_device_are_refused_without_blocking(tmp_path, originals):
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    result = marsviz(tmp_path / "home", "add", fifo, "/dev/zero", originals[0], timeout=60)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "rejected  pipe.png: not a regular file (a FIFO): only image files are read",
        "rejected  zero: not a regular file (a device): only image files are read",
        "added     frame0.png (id 1)"]


@pytest.mark.parametrize("command", [["scrape", "msl", "--limit", "0"], ["scrape", "msl", "--limit", "-5"],
                                     ["rank", "--top", "-1"], ["add", "--workers", "0", "x.png"],
                                     ["--home", " ", "rank"]])
def test_out_of_range_arguments_are_refused_before_anything_runs(tmp_path, command):
    result = marsviz(tmp_path / "home", *command)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "error: argument" in result.stderr
    assert not (tmp_path / "home").exists() and not (ROOT / " ").exists()


def test_a_blank_marsviz_home_is_refused_and_creates_no_folder(tmp_path):
    result = subprocess.run([sys.executable, "-m", "marsviz", "rank"], cwd=tmp_path, capture_output=True,
                            text=True, timeout=60, env={**os.environ, "MARSVIZ_HOME": " "})
    assert result.returncode == 2 and result.stderr.startswith("marsviz: MARSVIZ_HOME=' ' is not accepted")
    assert list(tmp_path.iterdir()) == []


# -- item 13: rank's default row count -------------------------------------------------------------
def test_rank_prints_ten_rows_for_people_and_every_row_for_machines(tmp_path):
    home = tmp_path / "home"
    assert marsviz(home, "samples").returncode == 0
    table = marsviz(home, "rank").stdout.splitlines()
    assert len(table) == 2 + 10
    assert len(json.loads(marsviz(home, "rank", "--format", "json").stdout)) == 71
    assert len(marsviz(home, "rank", "--format", "csv").stdout.splitlines()) == 1 + 71
    assert len(json.loads(marsviz(home, "rank", "--format", "json", "--top", "3").stdout)) == 3
    assert len(marsviz(home, "rank", "--top", "0").stdout.splitlines()) == 2 + 71
    help_text = " ".join(marsviz(home, "rank", "--help").stdout.split())
    assert "default: 10 for the table, all for csv and json" in help_text


# -- settings that change values are part of the stored version --------------------------------------
@pytest.mark.parametrize("variable, value", [("MARSVIZ_ANALYSIS_MAX_SIDE", "256"),
                                             ("MARSVIZ_TERRAIN_TILE_SIDE", "150")])
def test_analyze_recomputes_after_a_setting_that_changes_values(tmp_path, variable, value):
    home = tmp_path / "home"
    assert marsviz(home, "samples").returncode == 0
    before = Catalog(home).frame().set_index("id")
    assert marsviz(home, "analyze", "--workers", "1").stdout.strip() == "0 images re-analysed"
    env = {**os.environ, "MARSVIZ_HOME": str(home), variable: value}
    changed = subprocess.run([sys.executable, "-m", "marsviz", "analyze", "--workers", "1"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=300)
    assert changed.returncode == 0 and changed.stdout.strip() == "71 images re-analysed"
    after = Catalog(home).frame().set_index("id")
    assert (after["feature_version"] != before["feature_version"]).all()
    moved = (after["landmark_score"] - before["landmark_score"]).abs()
    assert moved.max() > 1e-3  # the values really were computed again, under the new setting
    again = subprocess.run([sys.executable, "-m", "marsviz", "analyze", "--workers", "1"], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=300)
    assert again.stdout.strip() == "0 images re-analysed"
    # Back to the default: recomputed once more, so the catalog never mixes values of two settings.
    assert marsviz(home, "analyze", "--workers", "1").stdout.strip() == "71 images re-analysed"

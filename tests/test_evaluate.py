"""Evaluation: metrics with known answers, grouped bootstrap, labels handling and the evaluate command."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from sklearn.metrics import average_precision_score, roc_auc_score

from marsviz.evaluate import (LabelsError, average_precision, evaluate_scores, grouped_bootstrap, load_labels,
                              render, roc_auc, score_images, source_image_id, task_targets)
from marsviz.features import Feature, FeatureResult

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "hirise"


# -- metrics -----------------------------------------------------------------------------------------
def test_known_answers():
    y = np.array([0, 0, 1, 1], dtype=bool)
    assert roc_auc(y, np.array([0.1, 0.2, 0.3, 0.4])) == 1.0
    assert roc_auc(y, np.array([0.4, 0.3, 0.2, 0.1])) == 0.0
    assert roc_auc(y, np.zeros(4)) == 0.5
    assert average_precision(y, np.array([0.1, 0.2, 0.3, 0.4])) == 1.0
    assert np.isnan(roc_auc(np.ones(3, dtype=bool), np.arange(3.0)))


@pytest.mark.parametrize("seed", range(5))
def test_metrics_agree_with_scikit_learn_including_ties(seed):
    rng = np.random.default_rng(seed)
    y = rng.random(200) < 0.2
    scores = np.round(rng.random(200) + 0.3 * y, 1)  # rounding makes many ties
    assert roc_auc(y, scores) == pytest.approx(roc_auc_score(y, scores))
    assert average_precision(y, scores) == pytest.approx(average_precision_score(y, scores))


def test_grouped_bootstrap_is_reproducible_and_brackets_the_estimate():
    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(30), 10)
    y = np.repeat(rng.random(30) < 0.4, 10)
    scores = y + rng.normal(0, 0.8, y.size)
    low, high = grouped_bootstrap(y, scores, groups, roc_auc, resamples=200, seed=3)
    assert (low, high) == grouped_bootstrap(y, scores, groups, roc_auc, resamples=200, seed=3)
    assert low < roc_auc(y, scores) < high


def test_grouped_bootstrap_is_wider_than_a_crop_bootstrap_when_crops_of_a_source_are_alike():
    rng = np.random.default_rng(1)
    group_effect = rng.normal(0, 1, 20)
    groups = np.repeat(np.arange(20), 25)
    y = np.repeat(np.arange(20) % 2 == 0, 25)
    scores = 0.5 * y + group_effect[groups] + rng.normal(0, 0.1, groups.size)
    grouped = np.subtract(*grouped_bootstrap(y, scores, groups, roc_auc, 300, 0)[::-1])
    per_crop = np.subtract(*grouped_bootstrap(y, scores, np.arange(groups.size), roc_auc, 300, 0)[::-1])
    assert grouped > 2 * per_crop


def test_a_perfect_separator_has_a_degenerate_interval():
    groups = np.arange(12) // 2
    y = groups % 2 == 0
    assert grouped_bootstrap(y, y.astype(float), groups, roc_auc, 100, 0) == (1.0, 1.0)


# -- labels ------------------------------------------------------------------------------------------
def test_source_image_id_is_the_name_up_to_red():
    assert source_image_id("PSP_002804_0930_RED-0018.jpg") == "PSP_002804_0930"
    assert source_image_id("plain.png") == "plain"


def test_a_file_labeled_twice_is_one_crop_with_both_labels(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("file,label\nA_RED-1.jpg,crater\nA_RED-1.jpg,other\nB_RED-2.jpg,other\nC_RED-3.jpg,spider\n")
    labels = load_labels(path)
    assert list(labels["file"]) == ["A_RED-1.jpg", "B_RED-2.jpg", "C_RED-3.jpg"]
    assert labels["labels"][0] == ("crater", "other")
    targets = task_targets(labels)
    assert list(targets["landmark"]) == [True, False, True]
    assert list(targets["ice_terrain"]) == [False, False, True]
    assert list(task_targets(labels, positive=["crater"])["ice_terrain"]) == [True, False, False]


def test_a_labels_file_without_the_columns_is_refused(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("name,kind\na.jpg,crater\n")
    with pytest.raises(LabelsError):
        load_labels(path)
    with pytest.raises(LabelsError):
        load_labels(tmp_path / "absent.csv")


# -- evaluating features on a labeled set ------------------------------------------------------------
def _mean_brightness(image):
    return FeatureResult(float(image.mean()), image)


def _synthetic_set(folder: Path) -> Path:
    """12 frames from 6 'source images': ice terrain is half bright, the rest uniformly mid-grey."""
    (folder / "images").mkdir(parents=True)
    rows = []
    rng = np.random.default_rng(0)
    for source in range(6):
        for crop in range(2):
            name = f"SRC_{source:03d}_RED-{crop:04d}.png"
            pixels = np.full((64, 64), 70, dtype=np.uint8) + rng.integers(0, 5, (64, 64), dtype=np.uint8)
            label = ["other", "crater", "swiss_cheese"][source % 3]
            if label == "swiss_cheese":
                pixels[:32] = 230
            Image.fromarray(pixels).save(folder / "images" / name)
            rows.append((name, label))
    with open(folder / "labels.csv", "w", newline="") as handle:
        csv.writer(handle).writerows([("file", "label"), *rows])
    return folder


def test_evaluate_scores_a_perfect_feature_at_auc_one(tmp_path):
    folder = _synthetic_set(tmp_path)
    labels = load_labels(folder / "labels.csv")
    feature = Feature(name="mean_brightness", label="Mean", function=_mean_brightness, version="1",
                      measures="m", method="m", why="w", limits="l")
    scores = score_images(labels, folder / "images", features={"mean_brightness": feature})
    table = evaluate_scores(scores, labels, resamples=100)
    ice = table[(table.task == "ice_terrain")].iloc[0]
    assert ice.auc == 1.0 and ice.average_precision == 1.0 and (ice.auc_low, ice.auc_high) == (1.0, 1.0)
    assert (ice.n_positive, ice.n_negative, ice.positive_sources) == (4, 8, 2)
    landmark = table[(table.task == "landmark")].iloc[0]
    assert landmark.n_positive == 8 and landmark.auc == pytest.approx(roc_auc_score(
        task_targets(labels)["landmark"], scores["mean_brightness"]))


def test_a_missing_labeled_image_is_reported(tmp_path):
    folder = _synthetic_set(tmp_path)
    (folder / "images" / "SRC_000_RED-0000.png").unlink()
    with pytest.raises(LabelsError, match="SRC_000_RED-0000.png"):
        score_images(load_labels(folder / "labels.csv"), folder / "images")


def _cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "marsviz", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=300)


def test_evaluate_command_json_and_csv_on_a_known_answer(tmp_path):
    folder = _synthetic_set(tmp_path / "set")
    out = tmp_path / "table.json"
    done = _cli("evaluate", folder / "labels.csv", folder / "images", "--format", "json", "--output", out,
                "--resamples", "50")
    assert done.returncode == 0, done.stderr
    rows = json.loads(out.read_text())
    by_key = {(row["task"], row["score"]): row for row in rows}
    # Half of every ice frame is bright white against a mid-grey frame: the seed water/ice ratio separates it.
    assert by_key[("ice_terrain", "water_ice_ratio")]["auc"] == 1.0
    assert {score for _, score in by_key} >= {"ice_terrain_score", "landmark_score", "water_ice_ratio"}
    done = _cli("evaluate", folder / "labels.csv", folder / "images", "--format", "csv", "--resamples", "50")
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(pd.io.common.StringIO(done.stdout))
    assert len(table) == len(rows) and set(table.task) == {"ice_terrain", "landmark"}


def test_evaluate_command_marks_the_trained_scores_in_sample_on_the_training_images(tmp_path):
    done = _cli("evaluate", FIXTURE / "labels.csv", FIXTURE / "images", "--resamples", "20")
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if "ice_terrain_score" in line]
    assert lines and all("in-sample" in line for line in lines)
    assert "ROC AUC" in done.stdout.splitlines()[0]


def test_evaluate_command_reports_a_bad_labels_file_in_one_line(tmp_path):
    bad = tmp_path / "labels.csv"
    bad.write_text("nothing here\n")
    done = _cli("evaluate", bad, tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr and "file,label" in done.stderr


def test_render_formats():
    table = evaluate_scores(pd.DataFrame({"s": [0.1, 0.9, 0.2, 0.8]}),
                            pd.DataFrame({"file": list("abcd"), "labels": [("other",), ("spider",), ("other",),
                                                                           ("crater",)], "source": list("abcd")}),
                            resamples=20)
    assert json.loads(render(table, "json"))[0]["score"] == "s"
    assert render(table, "csv").startswith("task,score,auc")
    assert "ice_terrain" in render(table, "table")
    with pytest.raises(ValueError):
        render(table, "xml")


def test_evaluate_by_view_reports_every_image_then_each_view_and_ranks_presets_as_the_app_does():
    from marsviz.evaluate import evaluate_by_view

    labels = pd.DataFrame({"file": [f"f{i}" for i in range(8)], "source": [f"s{i}" for i in range(8)],
                           "labels": [("spider",), ("other",), ("other",), ("crater",),
                                      ("spider",), ("other",), ("other",), ("other",)]})
    values = pd.DataFrame({
        "view": ["orbital"] * 4 + ["surface"] * 4, "is_color": False,
        # Right on the orbital crops it was validated on, wrong on the surface frames.
        "ice_terrain_score": [0.9, 0.1, 0.2, 0.1, 0.1, 0.9, 0.8, 0.7],
        "water_ice_ratio": [0.0, 0.0, 0.0, 0.0, 0.5, 0.0, 0.0, 0.0]})
    table = evaluate_by_view(values, labels, resamples=20)
    rows = {(r.view, r.task, r.score): r for r in table.itertuples()}
    assert list(table.columns[:3]) == ["view", "task", "score"]
    assert {"all", "orbital", "surface"} == set(table["view"])
    assert rows[("orbital", "ice_terrain", "ice_terrain_score")].auc == 1.0
    surface = rows[("surface", "ice_terrain", "ice_terrain_score")]
    assert surface.auc == 0.0 and "not validated on surface" in surface.note
    # The preset leaves the ice score out of surface frames, so there the water/ice candidates decide.
    assert rows[("surface", "ice_terrain", "preset:water_and_ice")].auc == 1.0
    assert rows[("orbital", "ice_terrain", "preset:water_and_ice")].auc == 1.0
    assert ("surface", "landmark", "preset:seed") in rows and ("all", "landmark", "preset:unusual_terrain") in rows


def test_in_sample_notes_name_the_trained_scores_only_when_the_model_saw_a_source_image():
    from marsviz.evaluate import in_sample_notes
    from marsviz.terrain.model import load_model

    model = load_model()
    seen = model.metadata["trained_on"]["source_image_ids"][:2]
    labels = pd.DataFrame({"source": seen + ["ESP_999999_9999"]})
    notes = in_sample_notes(labels, model)
    assert set(notes) == {"ice_terrain_score", "landmark_score"} and "2 of these" in notes["landmark_score"]
    assert in_sample_notes(labels.tail(1), model) == {}


def test_evaluate_from_catalog_scores_the_stored_values_against_your_labels(small_catalog_home):
    from marsviz.catalog import Catalog

    catalog = Catalog()
    frame = catalog.frame().sort_values("edge_ratio").reset_index(drop=True)
    # The four images with the most edges are "interesting", the four with the fewest are not; the rest unlabeled.
    for image_id in frame["id"].iloc[-4:]:
        catalog.set_label(int(image_id), "interesting")
    for image_id in frame["id"].iloc[:3]:
        catalog.set_label(int(image_id), "not interesting")
    catalog.set_label(int(frame["id"].iloc[3]), "crater")
    done = _cli("--home", small_catalog_home, "evaluate", "--from-catalog", "--format", "json", "--resamples", "50")
    assert done.returncode == 0, done.stderr
    rows = {(r["view"], r["score"]): r for r in json.loads(done.stdout)}
    edges = rows[("all", "edge_ratio")]
    assert edges["task"] == "your_labels" and (edges["n_positive"], edges["n_negative"]) == (4, 4)
    assert edges["auc"] == 1.0  # edges order the labels exactly as they were given
    labeled = frame.iloc[list(range(4)) + list(range(8, 12))]
    y = np.r_[np.zeros(4, bool), np.ones(4, bool)]
    assert rows[("all", "dark_spot_ratio")]["auc"] == pytest.approx(roc_auc_score(y, labeled["dark_spot_ratio"]))
    assert {"preset:water_and_ice", "preset:seed"} <= {score for _, score in rows}

    against = _cli("--home", small_catalog_home, "evaluate", "--from-catalog", "--positive", "Interesting",
                   "--negative", "not-interesting", "--format", "json", "--resamples", "20")
    edges = {(r["view"], r["score"]): r for r in json.loads(against.stdout)}[("all", "edge_ratio")]
    assert (edges["n_positive"], edges["n_negative"]) == (4, 3)  # the crater is neither

    refused = _cli("--home", small_catalog_home, "evaluate", "--from-catalog", "--positive", "spider")
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "needs images labeled spider" in refused.stderr and "interesting 4" in refused.stderr

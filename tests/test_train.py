"""Training: class rules, determinism, the written model and its evaluation, the train command."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from marsviz import train as train_module
from marsviz.cli import main
from marsviz.evaluate import LabelsError, load_labels
from marsviz.terrain.descriptors import DESCRIPTOR_NAMES
from marsviz.terrain.features import terrain_scores
from marsviz.terrain.model import load_model
from marsviz.train import crop_class, train

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "hirise"


def test_crop_class_merges_ice_labels_and_prefers_a_landmark_to_other():
    assert crop_class(("swiss_cheese",)) == crop_class(("spider",)) == "ice_terrain"
    assert crop_class(("crater", "other")) == "crater"
    assert crop_class(("impact_ejecta",)) == "crater"
    assert crop_class(("other",)) == "other"


def test_dihedral_copies_are_the_crop_then_its_distinct_rotations_and_mirror_images():
    crop = np.random.default_rng(0).random((5, 7))
    copies = train_module.dihedral_copies(crop)
    assert len(copies) == 8 and np.array_equal(copies[0], crop)
    assert len({c.tobytes() + bytes(c.shape) for c in copies}) == 8
    # Each copy is a rotation of the crop or of its mirror image, the same pixels rearranged.
    assert all(sorted(c.ravel()) == sorted(crop.ravel()) for c in copies)
    assert {c.shape for c in copies} == {(5, 7), (7, 5)}


def test_copy_zero_of_each_crop_is_described_as_the_features_describe_it():
    from marsviz.decode import load_image
    from marsviz.terrain.features import image_descriptors

    labels = load_labels(FIXTURE / "labels.csv").head(3)
    descriptors, _ = train_module.describe_crops(labels, FIXTURE / "images", seed_features=False)
    assert descriptors.shape == (3, train_module.DIHEDRAL_COPIES, len(DESCRIPTOR_NAMES))
    first = image_descriptors(load_image(FIXTURE / "images" / labels["file"].iloc[0]).pixels)
    assert np.array_equal(descriptors[0, 0], first.descriptors[first.valid].mean(axis=0))
    # The descriptors are nearly invariant to rotation, so the copies are close but not all identical.
    assert np.allclose(descriptors[:, 1:], descriptors[:, :1], atol=0.5)


def _small_search(patch):
    """Fewer folds and one value per hyper-parameter: the same code paths at a fraction of the fits."""
    patch.setattr(train_module, "OUTER_FOLDS", 3)
    patch.setattr(train_module, "INNER_FOLDS", 2)
    patch.setattr(train_module, "C_GRID", (1.0,))
    patch.setattr(train_module, "ALPHA_GRID", (3.0, 10.0))


@pytest.fixture(scope="module")
def trained_twice(tmp_path_factory):
    runs = []
    with pytest.MonkeyPatch.context() as patch:
        _small_search(patch)
        for name in ("first", "second"):
            folder = tmp_path_factory.mktemp(name)
            summary = train(FIXTURE / "labels.csv", FIXTURE / "images", output=folder / "model.json", seed=7,
                            resamples=50)
            runs.append((folder, summary))
    return runs


def test_same_data_and_seed_give_the_same_files(trained_twice):
    (first, _), (second, _) = trained_twice
    assert (first / "model.json").read_bytes() == (second / "model.json").read_bytes()
    assert (first / "evaluation.json").read_bytes() == (second / "evaluation.json").read_bytes()


def test_the_trained_model_loads_and_scores(trained_twice):
    folder, _ = trained_twice[0]
    model = load_model(folder / "model.json")
    assert model.descriptor_names == DESCRIPTOR_NAMES
    assert {"ice_terrain", "other"} <= set(model.heads["ice_terrain_score"].classes)
    assert model.heads["landmark_score"].hidden_weights.shape == (64, len(DESCRIPTOR_NAMES))
    labels = load_labels(FIXTURE / "labels.csv")
    assert model.metadata["trained_on"]["crops"] == len(labels)
    assert model.metadata["trained_on"]["source_image_ids"] == sorted(set(labels["source"]))
    image = np.random.default_rng(0).random((300, 300)).astype(np.float32)
    for result in terrain_scores(image, model).values():
        assert 0 <= result.value <= 1


def test_the_evaluation_summary_holds_cross_validated_rows_for_every_score(trained_twice):
    folder, summary = trained_twice[0]
    assert json.loads((folder / "evaluation.json").read_text()) == summary
    rows = {(row["task"], row["score"]): row for row in summary["rows"]}
    assert rows[("ice_terrain", "ice_terrain_score")]["note"] == "cross-validated by source image"
    assert rows[("landmark", "dark_spot_ratio")]["note"].startswith("untrained")
    for row in summary["rows"]:
        if row["auc"] is not None:
            assert 0 <= row["auc"] <= 1
            assert row["auc_low"] <= row["auc"] + 1e-9 and row["auc"] <= row["auc_high"] + 1e-9
    labels = load_labels(FIXTURE / "labels.csv")
    assert summary["dataset"]["files_with_two_labels"] == int((labels["labels"].map(len) > 1).sum()) > 0
    assert len(summary["protocol"]["chosen_per_outer_fold"]) >= 2
    assert summary["protocol"]["final"]["alpha"] in (3.0, 10.0)
    assert summary["protocol"]["training_copies"].startswith("8 per training crop")


def test_training_without_enough_ice_sources_is_refused(tmp_path):
    labels = (FIXTURE / "labels.csv").read_text().splitlines()
    kept = [labels[0]] + [line for line in labels[1:] if "swiss_cheese" not in line and "spider" not in line]
    kept.append("ESP_049509_1075_RED-0010.jpg,spider")
    (tmp_path / "labels.csv").write_text("\n".join(kept) + "\n")
    with pytest.raises(LabelsError, match="at least 2 source images"):
        train(tmp_path / "labels.csv", FIXTURE / "images", output=tmp_path / "model.json", resamples=10)


def test_train_command_writes_the_model_and_another_seed_gives_other_folds(tmp_path, trained_twice, monkeypatch,
                                                                          capsys):
    _small_search(monkeypatch)
    images = tmp_path / "images"
    shutil.copytree(FIXTURE / "images", images)
    status = main(["train", str(FIXTURE / "labels.csv"), str(images), "--output", str(tmp_path / "out" / "model.json"),
                   "--seed", "8", "--resamples", "50"])
    assert status == 0
    assert (tmp_path / "out" / "model.json").is_file()
    printed = capsys.readouterr().out
    assert "ice_terrain_score" in printed and "cross-validated by source image" in printed
    other_seed = json.loads((tmp_path / "out" / "evaluation.json").read_text())
    assert other_seed["rows"] != trained_twice[0][1]["rows"]


def test_train_command_reports_a_missing_image_in_one_line(tmp_path, capsys):
    status = main(["train", str(FIXTURE / "labels.csv"), str(tmp_path), "--output", str(tmp_path / "model.json")])
    assert status == 2
    assert "not found" in capsys.readouterr().err

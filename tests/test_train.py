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
from marsviz.terrain.model import HAND_MADE, TILE_DESCRIPTOR_NAMES
from marsviz.terrain.features import terrain_scores
from marsviz.terrain.model import calibrated, load_evaluation, load_model
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


def _fixture_labels():
    return train_module.load_sets([(FIXTURE / "labels.csv", FIXTURE / "images")])


def test_copy_zero_of_each_crop_is_described_as_the_features_describe_it():
    from marsviz.decode import load_image
    from marsviz.terrain.features import image_descriptors

    labels = _fixture_labels().head(3)
    crops = train_module.describe_crops(labels)
    assert crops.as_is.shape == (3, len(TILE_DESCRIPTOR_NAMES))
    first = image_descriptors(load_image(FIXTURE / "images" / labels["file"].iloc[0]).pixels)
    assert np.array_equal(crops.as_is[0], first.descriptors[first.valid].mean(axis=0))
    assert np.array_equal(crops.training[:, 0], crops.as_is)
    # Rotations and mirror images, then one tile of the crop shrunk to half, then the 2x2 tiles of it doubled.
    assert crops.training.shape[1] == train_module.DIHEDRAL_COPIES + 1 + 4
    assert [len(tiles) for tiles in crops.scaled[0.5]] == [1, 1, 1]
    assert [len(tiles) for tiles in crops.scaled[2.0]] == [4, 4, 4]
    # The hand-made descriptors are nearly invariant to rotation, so their copies are close but not all identical;
    # the pretrained network's are not, which is what the copies teach the model.
    rotations = crops.training[:, 1:train_module.DIHEDRAL_COPIES]
    hand = slice(*HAND_MADE)
    assert np.allclose(rotations[..., hand], crops.training[:, :1, hand], atol=0.5)
    assert not np.array_equal(rotations[:, :1, hand], crops.training[:, :1, hand])
    network_change = np.abs(rotations[..., HAND_MADE[1]:] - crops.training[:, :1, HAND_MADE[1]:]).max()
    assert network_change > 0.5


def test_describing_with_two_processes_gives_the_same_descriptors():
    labels = _fixture_labels().head(4)
    one, two = train_module.describe_crops(labels), train_module.describe_crops(labels, workers=2)
    assert np.array_equal(one.training, two.training)
    assert all(np.array_equal(a, b) for a, b in zip(one.scaled[2.0], two.scaled[2.0]))


def test_a_crop_in_two_labeled_sets_is_refused(tmp_path):
    (tmp_path / "labels.csv").write_text("file,label\nESP_049509_1075_RED-0010.jpg,other\n")
    with pytest.raises(LabelsError, match="listed in two labeled sets"):
        train_module.load_sets([(FIXTURE / "labels.csv", FIXTURE / "images"), (tmp_path / "labels.csv", tmp_path)])


def test_each_fold_holds_out_one_ice_source_and_never_splits_a_source():
    labels = _fixture_labels()
    classes = labels["labels"].map(crop_class).to_numpy()
    groups = labels["source"].to_numpy()
    folds = train_module.ice_source_folds(classes, groups, seed=3)
    ice_sources = set(groups[classes == "ice_terrain"])
    assert folds.max() + 1 == len(ice_sources)
    for fold in range(folds.max() + 1):
        assert len(set(groups[(folds == fold) & (classes == "ice_terrain")])) == 1
    assert all(len(set(folds[groups == source])) == 1 for source in set(groups))
    assert not np.array_equal(folds, train_module.ice_source_folds(classes, groups, seed=4))


def test_calibration_turns_overconfident_scores_into_probabilities_and_never_reverses_them():
    rng = np.random.default_rng(1)
    truth = rng.uniform(0.01, 0.99, 20000)
    outcome = rng.random(truth.size) < truth
    overconfident = 1 / (1 + np.exp(-3 * np.log(truth / (1 - truth)) - 1.0))
    before = train_module.reliability(outcome, overconfident)["ece"]
    mapping = train_module.fit_calibration(overconfident, outcome)
    after = train_module.reliability(outcome, calibrated(overconfident, mapping))["ece"]
    assert before > 0.1 and after < 0.02
    reversed_mapping = train_module.fit_calibration(overconfident, ~outcome)
    assert reversed_mapping[0] > 0


FIXTURE_SET = [(FIXTURE / "labels.csv", FIXTURE / "images")]


@pytest.fixture(scope="module")
def trained_twice(tmp_path_factory):
    runs = []
    for name in ("first", "second"):
        folder = tmp_path_factory.mktemp(name)
        summary = train(FIXTURE_SET, output=folder / "model.json", seed=7, resamples=50)
        runs.append((folder, summary))
    return runs


def test_same_data_and_seed_give_the_same_files(trained_twice):
    (first, _), (second, _) = trained_twice
    assert (first / "model.json").read_bytes() == (second / "model.json").read_bytes()
    assert (first / "evaluation.json").read_bytes() == (second / "evaluation.json").read_bytes()


def test_the_trained_model_loads_and_scores(trained_twice):
    folder, _ = trained_twice[0]
    model = load_model(folder / "model.json")
    assert model.descriptor_names == TILE_DESCRIPTOR_NAMES
    assert {"ice_terrain", "other"} <= set(model.classes("ice_terrain_score"))
    assert [head.kind for heads in model.heads.values() for head in heads] == ["linear"] * 3
    labels = load_labels(FIXTURE / "labels.csv")
    assert model.metadata["trained_on"]["crops"] == len(labels)
    assert model.metadata["trained_on"]["source_image_ids"] == sorted(set(labels["source"]))
    image = np.random.default_rng(0).random((300, 300)).astype(np.float32)
    for result in terrain_scores(image, model).values():
        assert 0 <= result.value <= 1
    # Scores are the calibrated raw scores, with the map the evaluation reports.
    shipped = trained_twice[0][1]["protocol"]["shipped_calibration"]
    descriptors = np.random.default_rng(1).normal(model.mean, model.scale, (5, len(TILE_DESCRIPTOR_NAMES)))
    raw, scores = model.raw_scores(descriptors), model.scores(descriptors)
    for name in ("ice_terrain_score", "landmark_score"):
        assert list(model.calibration[name]) == shipped[name] != [1.0, 0.0]
        assert np.allclose(scores[name], calibrated(raw[name], tuple(shipped[name])))


def test_the_evaluation_summary_holds_cross_validated_rows_for_every_score(trained_twice):
    folder, summary = trained_twice[0]
    assert json.loads((folder / "evaluation.json").read_text()) == summary
    rows = {(row["task"], row["score"]): row for row in summary["rows"]}
    assert rows[("ice_terrain", "ice_terrain_score")]["note"] == "held-out source images, calibrated"
    assert rows[("landmark", "dark_spot_ratio")]["note"].startswith("untrained")
    for row in summary["rows"]:
        if row["auc"] is not None:
            assert 0 <= row["auc"] <= 1
            assert row["auc_low"] <= row["auc"] + 1e-9 and row["auc"] <= row["auc_high"] + 1e-9
    labels = load_labels(FIXTURE / "labels.csv")
    assert summary["dataset"]["files_with_two_labels"] == int((labels["labels"].map(len) > 1).sum()) > 0
    ice_sources = sorted(set(labels["source"][labels["labels"].map(lambda l: bool({"spider", "swiss_cheese"} & set(l)))]))
    assert summary["protocol"]["folds"] == summary["dataset"]["ice_source_images"] == len(ice_sources)
    assert [row["source"] for row in summary["per_ice_source"]] == ice_sources
    assert summary["spiders"]["n"] == 2
    import numpy
    import sklearn

    environment = summary["protocol"]["environment"]
    assert environment["numpy"] == numpy.__version__ and environment["scikit-learn"] == sklearn.__version__
    assert {(row["score"], row["scale"]) for row in summary["scales"]} == {
        (score, scale) for score in ("ice_terrain_score", "landmark_score") for scale in (1.0, 0.5, 2.0)}
    for score in ("ice_terrain_score", "landmark_score"):
        table = summary["reliability"][score]
        assert 0 <= table["ece"] <= 1 and sum(row["n"] for row in table["bins"]) == len(labels)


def test_training_without_enough_ice_sources_is_refused(tmp_path):
    labels = (FIXTURE / "labels.csv").read_text().splitlines()
    kept = [labels[0]] + [line for line in labels[1:] if "swiss_cheese" not in line and "spider" not in line]
    kept.append("ESP_049509_1075_RED-0010.jpg,spider")
    (tmp_path / "labels.csv").write_text("\n".join(kept) + "\n")
    with pytest.raises(LabelsError, match="at least 2 source images"):
        train([(tmp_path / "labels.csv", FIXTURE / "images")], output=tmp_path / "model.json", resamples=10)


def test_train_command_writes_to_the_data_folder_and_another_seed_gives_other_folds(tmp_path, trained_twice,
                                                                                     capsys, monkeypatch):
    from marsviz.terrain.model import SHIPPED_MODEL, model_path

    shipped = SHIPPED_MODEL.read_bytes()
    monkeypatch.setenv("MARSVIZ_HOME", str(tmp_path / "home"))
    shutil.copytree(FIXTURE, tmp_path / "set")
    status = main(["train", str(tmp_path / "set"), "--seed", "8", "--resamples", "50"])
    assert status == 0
    written = tmp_path / "home" / "models" / "model.json"
    assert written.is_file() and SHIPPED_MODEL.read_bytes() == shipped
    out, err = capsys.readouterr()
    assert "ice_terrain_score" in out and "held-out source images" in out
    assert f"MARSVIZ_TERRAIN_MODEL={written}" in err
    other_seed = json.loads((written.parent / "evaluation.json").read_text())
    assert other_seed["rows"] != trained_twice[0][1]["rows"]
    monkeypatch.setenv("MARSVIZ_TERRAIN_MODEL", str(written))
    assert model_path() == written.resolve()
    assert load_model().metadata["seed"] == 8
    # The Method page then shows that model's own evaluation.
    assert load_evaluation()["rows"] == other_seed["rows"]


def test_train_command_reports_a_missing_image_in_one_line(tmp_path, capsys):
    status = main(["train", str(FIXTURE / "labels.csv"), str(tmp_path), "--output", str(tmp_path / "model.json")])
    assert status == 2
    assert "not found" in capsys.readouterr().err


def test_training_describes_crops_at_the_default_settings_whatever_the_environment(monkeypatch):
    labels = _fixture_labels().head(2)
    before = train_module.describe_crops(labels)
    monkeypatch.setenv("MARSVIZ_TERRAIN_TILE_SIDE", "113")
    monkeypatch.setenv("MARSVIZ_ANALYSIS_MAX_SIDE", "64")
    after = train_module.describe_crops(labels)
    assert np.array_equal(before.training, after.training)
    assert all(np.array_equal(a, b) for a, b in zip(before.scaled[2.0], after.scaled[2.0]))

"""Learning from a person's labels: the fit, its honest (held-out) ROC AUC, the record, the app's button."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from marsviz.catalog import Catalog
from marsviz.errors import LabelsError
from marsviz.evaluate import roc_auc
from marsviz.learn import LabelModel, fit_label_model, latest_model, train_from_catalog
from marsviz.pipeline import add_paths
from marsviz.samples import SAMPLES_DIR
from tests.test_app import run_app

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
#: Curiosity classes that show the rover itself.
HARDWARE = {"wheel", "turret", "mastcam_cal_target"}


def test_a_separable_label_is_learnt_and_its_cross_validated_auc_says_so():
    rng = np.random.default_rng(0)
    y = np.arange(60) % 3 == 0
    x = rng.normal(size=(60, 118))
    x[y, :5] += 1.5  # the positives differ in five descriptors
    model = fit_label_model(x, y, np.array([f"source{i}" for i in range(60)]), ["interesting"])
    assert model.cv_auc > 0.75 and model.folds == 5 and (model.n_positive, model.n_negative) == (20, 40)
    assert roc_auc(y, model.scores(x)) > 0.95


def test_the_cross_validated_auc_holds_whole_source_images_out():
    # Labels that follow the source image, not anything a descriptor measures beyond "which source": a model
    # scored on crops of sources it saw would look perfect; held out by source it is at chance.
    rng = np.random.default_rng(1)
    groups = np.repeat(np.arange(20), 4)
    y = np.isin(groups, rng.choice(20, 10, replace=False))
    x = rng.normal(size=(20, 118))[groups] + 0.05 * rng.normal(size=(80, 118))
    model = fit_label_model(x, y, groups.astype(str), ["interesting"])
    assert roc_auc(y, model.scores(x)) > 0.95  # in-sample: perfect-looking
    assert 0.2 < model.cv_auc < 0.8  # held out: no better than chance, and the number says so


def test_a_model_survives_its_json_text():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(30, 4)), np.arange(30) % 2 == 0
    model = fit_label_model(x, y, np.arange(30).astype(str), ["crater"], ["other"])
    again = LabelModel.from_json(model.to_json())
    assert np.allclose(again.scores(x), model.scores(x)) and again.negative == ("other",)


@pytest.fixture(scope="module")
def _labeled_template(tmp_path_factory):
    """A catalog of the labeled fixture images (40 HiRISE crops, 24 Curiosity frames), each with its label."""
    folder = tmp_path_factory.mktemp("labeled") / "home"
    catalog = Catalog(folder)
    for name in ("hirise", "msl"):
        labels = pd.read_csv(FIXTURES / name / "labels.csv")
        results = add_paths(catalog, [FIXTURES / name / "images" / f for f in labels["file"]], workers=1)
        for result, label in zip(results, labels["label"]):
            catalog.set_label(result.image_id, label, labeled_by="fixture")
    return folder


@pytest.fixture
def labeled_home(_labeled_template, tmp_path, monkeypatch):
    folder = tmp_path / "home"
    shutil.copytree(_labeled_template, folder)
    monkeypatch.setenv("MARSVIZ_HOME", str(folder))
    return folder


def test_a_score_learnt_from_the_catalogs_labels_finds_rover_hardware(labeled_home):
    catalog = Catalog(labeled_home)
    labels = catalog.labels()
    hardware = sorted(set(labels["label"]) & HARDWARE)
    model = train_from_catalog(catalog, hardware, fitted_by="ana")
    assert (model.n_positive, model.n_negative) == (12, 52)
    assert model.cv_auc > 0.8, model.describe()  # hardware against ground, horizon and orbital crops, held out
    frame = catalog.frame().merge(labels[["id", "label"]], on="id")
    assert frame["your_labels_score"].notna().all()
    assert roc_auc(frame["label"].isin(HARDWARE).to_numpy(), frame["your_labels_score"].to_numpy()) > 0.9
    assert latest_model(catalog).fitted_by == "ana" and len(catalog.label_fits()) == 1

    # An image added after the fit is scored by it when it is added.
    [added] = add_paths(catalog, [SAMPLES_DIR / "mgs_moc_na_calibrated.png"], workers=1)
    assert catalog.get(added.image_id)["your_labels_score"] is not None
    # A refit is recorded beside the first.
    train_from_catalog(catalog, ["other"])
    assert [json.loads(fit)["positive"] for fit in catalog.label_fits()] == [["other"], hardware]


def test_too_few_labels_of_a_class_is_a_clear_refusal(labeled_home):
    with pytest.raises(LabelsError, match="at least 10 images are labeled spider .* there are 2 and 62"):
        train_from_catalog(Catalog(labeled_home), ["spider"])
    assert Catalog(labeled_home).label_fits() == []


def test_train_from_catalog_on_the_command_line(labeled_home):
    def marsviz(*args):
        return subprocess.run([sys.executable, "-m", "marsviz", "--home", str(labeled_home), *args], cwd=ROOT,
                              capture_output=True, text=True, timeout=300)

    counts = Catalog(labeled_home).labels()["label"].value_counts()
    landmarks = counts[["crater", "dark_dune", "bright_dune", "slope_streak"]].sum()
    done = marsviz("train", "--from-catalog", "--positive", "crater,dark_dune,bright_dune", "slope_streak",
                   "--negative", "other", "--by", "ana")
    assert done.returncode == 0, done.stderr
    assert (f"fitted on {landmarks} bright dune or crater or dark dune or slope streak against {counts['other']} other"
            in done.stdout)
    assert "cross-validated ROC AUC" in done.stdout
    records = json.loads(marsviz("rank", "--format", "json").stdout)
    assert all(r["your_labels_score"] is not None for r in records)
    refused = marsviz("train", "--from-catalog", "--positive", "spider")
    assert refused.returncode == 2 and "at least 10" in refused.stderr and "Traceback" not in refused.stderr


def test_the_sidebar_button_fits_and_the_score_is_a_column_an_axis_and_a_viewer_line(labeled_home):
    app = run_app("app_pages/ranking.py")
    app.selectbox(key="learn_positive").select("other").run()
    assert not app.button(key="learn_train").disabled
    app.button(key="learn_train").click().run()
    assert not app.exception
    assert any(s.value.startswith("Fitted: fitted on 18 other against 46 others") for s in app.sidebar.success)
    assert latest_model(Catalog()).positive == ("other",)
    app.multiselect(key="ranking_columns").select("your_labels_score").run()
    assert app.dataframe[0].value["your_labels_score"].notna().all()

    explore = run_app("app_pages/explore.py", image=str(int(Catalog().frame()["id"].iloc[0])))
    assert "Your labels, trained" in explore.selectbox(key="explore_x").options
    assert any(c.value.startswith("Your labels, trained: **") for c in explore.caption)


def test_before_any_fit_the_learnt_score_is_no_axis(labeled_home):
    explore = run_app("app_pages/explore.py")
    assert not explore.exception and "Your labels, trained" not in explore.selectbox(key="explore_x").options


def test_the_button_waits_for_enough_labels(labeled_home):
    app = run_app("app_pages/ranking.py")
    app.selectbox(key="learn_positive").select("spider").run()
    button = app.button(key="learn_train")
    assert button.disabled and "there are 2 and 62" in button.help

"""The view model: descriptors, the model file, training and validation, the train-view command."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from marsviz.cli import main
from marsviz.decode import load_image
from marsviz.errors import ModelError
from marsviz.evaluate import source_image_id
from marsviz.scoring import GATE_CERTAINTY
from marsviz.train import rescaled
from marsviz.view.descriptors import (VIEW_DESCRIPTOR_NAMES, VIEW_INPUT_NAMES, colour_statistics,
                                      network_descriptors, reduced, view_descriptors, view_inputs)
from marsviz.view.feature import TERRAIN_VIEWS
from marsviz.view.model import VIEWS, classify_view, load_view_model, view_model_from_json
from marsviz.view.other_set import make_other_set
from marsviz.view.train import (DOUBLE, NETWORKS, PRODUCT_VARIANTS, ROVER_COPIES, _pixels, describe_views,
                                fit_view_model, jittered_frame, load_view_sets, orbital_product, panorama, train_view)

ROOT = Path(__file__).resolve().parents[1]
ROVER = ROOT / "tests" / "fixtures" / "msl"
ORBITAL = ROOT / "tests" / "fixtures" / "hirise"
SAMPLES = ROOT / "marsviz" / "samples"


def test_descriptors_are_finite_and_see_colour_only_where_there_is_some():
    rng = np.random.default_rng(0)
    gray = rng.random((200, 300)).astype(np.float32)
    as_rgb = np.repeat(gray[..., None], 3, axis=2)
    assert view_descriptors(gray).shape == (len(VIEW_DESCRIPTOR_NAMES),)
    assert np.allclose(view_descriptors(gray), view_descriptors(as_rgb), atol=1e-5)
    assert not colour_statistics(as_rgb).any()
    rusty = as_rgb * np.array([1.0, 0.6, 0.4], np.float32)
    is_colour, chroma = colour_statistics(rusty)[:2]
    assert is_colour == 1 and chroma > 0.05


def test_descriptors_tell_the_sky_above_from_below():
    sky_above = np.vstack([np.full((60, 120), 0.8), np.random.default_rng(1).random((60, 120)) * 0.5])
    upside_down = sky_above[::-1]
    brightness = VIEW_DESCRIPTOR_NAMES.index("row0_brightness")
    assert view_descriptors(sky_above)[brightness] > 0 > view_descriptors(upside_down)[brightness]


def test_a_long_strip_is_reduced_less_and_a_tiny_image_is_enlarged():
    assert np.isfinite(view_descriptors(np.random.default_rng(2).random((78, 512)))).all()
    assert np.isfinite(view_descriptors(np.zeros((20, 400), np.float32))).all()
    assert classify_view(np.full((8, 8), 0.5, np.float32)).view in VIEWS


def test_the_network_sees_a_full_size_frame_as_at_the_browse_size_it_learnt_from():
    frame = load_image(next(ROVER.glob("images/*.JPG"))).pixels
    frame = frame[:frame.shape[0] // 2 * 2, :frame.shape[1] // 2 * 2]
    four_times = np.repeat(np.repeat(frame, 4, axis=0), 4, axis=1)
    assert max(frame.shape) <= 256 < max(four_times.shape)
    # The larger frame is seen as the terrain scores see it (levels snapped to 1/1020, no-data filled), the
    # browse frame as it is: nearly the same, against what another frame (the same one upside down) reads.
    apart = np.linalg.norm(network_descriptors(frame) - network_descriptors(frame[::-1]))
    assert np.linalg.norm(network_descriptors(four_times) - network_descriptors(frame)) < 0.05 * apart
    inputs = view_inputs(frame)
    assert inputs.shape == (len(VIEW_INPUT_NAMES),)
    assert np.array_equal(inputs[:len(VIEW_DESCRIPTOR_NAMES)], view_descriptors(frame))


def test_a_frame_over_256_px_is_seen_by_the_network_as_the_terrain_scores_see_it():
    from marsviz.features._base import luminance
    from marsviz.terrain.backbone import backbone_descriptors
    from marsviz.terrain.features import half_resolution_tiles
    from marsviz.terrain.descriptors import untile

    frame = load_image(ROOT / "marsviz" / "samples" / "mer_opportunity_PIA13593_fullres.jpg").pixels
    tiles, _, rows, cols, _ = half_resolution_tiles(frame)
    np.testing.assert_array_equal(network_descriptors(frame), backbone_descriptors(untile(tiles, rows, cols), 1, 1)[0])
    small = frame[:256, :200]   # at most 256 px: seen as it is, not halved
    np.testing.assert_array_equal(network_descriptors(small), backbone_descriptors(luminance(small), 1, 1)[0])


def test_the_shipped_model_calls_rover_frames_and_orbital_crops_apart():
    model = load_view_model()
    assert set(model.view_of.values()) == set(VIEWS)
    wheel = classify_view(load_image(next(ROVER.glob("images/0*.JPG"))).pixels)
    assert sum(wheel.probabilities.values()) == pytest.approx(1.0)
    crops = sorted((ORBITAL / "images").glob("*.jpg"))[:10]
    calls = [classify_view(load_image(path).pixels).view for path in crops]
    assert calls.count("orbital") >= 8


def test_the_shipped_model_sees_terrain_in_orbital_crops_at_half_their_size():
    # Before the model saw half-size copies, 7 of the 40 fixture crops at half size fell below the gate's
    # certainty (lowest 0.59), so the composite ranked them down for their size alone.
    crops = sorted((ORBITAL / "images").glob("*.jpg"))
    halves = [classify_view(rescaled(load_image(path).pixels, 0.5)) for path in crops]
    terrain = [sum(result.probabilities[v] for v in TERRAIN_VIEWS) for result in halves]
    assert all(result.view == "orbital" for result in halves)
    assert sum(value >= GATE_CERTAINTY for value in terrain) >= 39


def test_a_views_probabilities_are_the_mean_of_its_networks():
    model = load_view_model()
    assert len(model.heads) == NETWORKS
    inputs = view_inputs(load_image(next(ROVER.glob("images/*.JPG"))).pixels)
    singles = [dataclasses.replace(model, heads=(head,)).view_probabilities(inputs) for head in model.heads]
    assert np.allclose(model.view_probabilities(inputs), np.mean(singles, axis=0))
    # The networks differ (relatively: on a clear frame every one is sure), so the mean is not one network's.
    assert not np.allclose(singles[0], singles[1], rtol=1e-3, atol=0)


def test_a_damaged_view_model_file_is_refused_with_its_name(tmp_path):
    text = (ROOT / "marsviz" / "view" / "view_model.json").read_text()
    payload = json.loads(text)
    payload["mean"] = payload["mean"][:-1]
    with pytest.raises(ModelError, match="wrong shape"):
        view_model_from_json(json.dumps(payload), name="broken.json")
    with pytest.raises(ModelError, match="not a view model"):
        view_model_from_json("[1, 2]", name="empty.json")
    payload = json.loads(text)
    payload["heads"][2]["intercept"] = payload["heads"][2]["intercept"][:-1]
    with pytest.raises(ModelError, match="wrong shape"):
        view_model_from_json(json.dumps(payload), name="short.json")
    payload = json.loads(text)
    payload["heads"][1]["classes"] = payload["heads"][1]["classes"][::-1]
    with pytest.raises(ModelError, match="wrong shape"):
        view_model_from_json(json.dumps(payload), name="shuffled.json")
    payload["heads"] = []
    with pytest.raises(ModelError, match="not a view model"):
        view_model_from_json(json.dumps(payload), name="headless.json")
    payload = json.loads(text)
    payload["format"] = 2
    with pytest.raises(ModelError, match="retrain it"):
        view_model_from_json(json.dumps(payload), name="old.json")
    with pytest.raises(ModelError, match="cannot read"):
        load_view_model(tmp_path / "absent.json")


def _unpacked_packages(root: Path) -> Path:
    """A miniature of the unpacked Debian packages: clip art in two categories, planet maps, an icon."""
    rng = np.random.default_rng(0)
    for folder, count in (("usr/share/openclipart/png/animals", 3), ("usr/share/openclipart/png/food", 2),
                          ("usr/share/stellarium/textures", 2)):
        (root / folder).mkdir(parents=True)
        for k in range(count):
            pixels = rng.integers(0, 255, (160 + 10 * k, 200, 4), dtype=np.uint8)
            Image.fromarray(pixels, "RGBA").save(root / folder / f"picture{k}.png")
    Image.fromarray(rng.integers(0, 255, (200, 300, 3), dtype=np.uint8)).save(
        root / "usr/share/stellarium/textures/mars.png")
    Image.fromarray(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)).save(
        root / "usr/share/openclipart/png/food/icon.png")
    return root


@pytest.fixture(scope="module")
def other_set(tmp_path_factory):
    unpacked = _unpacked_packages(tmp_path_factory.mktemp("unpacked"))
    output = tmp_path_factory.mktemp("other")
    make_other_set([unpacked], output)
    return output


def test_the_other_set_groups_by_kind_and_leaves_out_icons_and_mars(other_set, tmp_path):
    labels = pd.read_csv(other_set / "labels.csv")
    assert sorted(labels["group"].unique()) == ["clip art / animals", "clip art / food", "planet and moon maps"]
    assert len(labels) == 7  # the 32 px icon and the Mars map are not taken
    assert not labels["source"].str.contains("mars|icon").any()
    for name in labels["file"]:
        with Image.open(other_set / "images" / name) as image:
            assert image.mode == "RGB" and max(image.size) <= 512
    again = tmp_path / "again"
    make_other_set([_unpacked_packages(tmp_path / "unpacked")], again)
    assert (again / "labels.csv").read_text() == (other_set / "labels.csv").read_text()


def test_orbital_products_frame_crops_as_projected_mosaics_strips_and_colour_mosaics():
    rng = np.random.default_rng(1)
    crops = [rng.uniform(0.2, 0.9, (50, 50)).astype(np.float32) for _ in range(9)]
    mosaic = orbital_product(crops, "mosaic", np.random.default_rng(0))
    assert mosaic.ndim == 2 and min(mosaic.shape) > 150
    assert mosaic[0, 0] == 0 and mosaic[-1, -1] == 0  # turned on a black no-data frame
    strip = orbital_product(crops, "strip", np.random.default_rng(0))
    assert strip.shape[0] > 3 * strip.shape[1] / 1.5
    colour = orbital_product(crops, "colour", np.random.default_rng(0))
    assert colour.shape == (75, 75, 3)
    assert (colour[..., 0] >= colour[..., 1]).all() and (colour[..., 1] >= colour[..., 2]).all()
    with pytest.raises(ValueError, match="unknown"):
        orbital_product(crops, "poster", rng)


def test_panoramas_join_one_cameras_terrain_frames_of_a_sol_side_by_side(tmp_path):
    rng = np.random.default_rng(2)
    (tmp_path / "images").mkdir()
    rows = ["file,label,split,sol"]
    for k, (camera, label) in enumerate([("MR", "ground"), ("MR", "horizon"), ("MR", "ground"), ("MR", "ground"),
                                         ("ML", "ground"), ("MR", "wheel")]):
        name = f"0072{camera}00056101{k}0103642E01_DRCL.JPG"
        Image.fromarray(rng.integers(0, 255, (100 + 10 * k, 120, 3), dtype=np.uint8)).save(tmp_path / "images" / name)
        rows.append(f"{name},{label},train,72")
    (tmp_path / "labels.csv").write_text("\n".join(rows) + "\n")
    table = load_view_sets(tmp_path, [ORBITAL])
    joined = table[table["cls"] == "surface panorama"]
    assert len(joined) == 1 and joined.iloc[0][["view", "part", "group"]].tolist() == ["surface", "early", "sol 72"]
    assert joined.iloc[0]["path"].count("|") == 3  # the four MR terrain frames; not the ML frame, not the wheel
    pixels = _pixels(joined.iloc[0]["path"])
    assert pixels.shape[0] == 100 and pixels.shape[1] > 4 * 100 and pixels.ndim == 3
    gray = panorama([np.full((50, 60), 0.5, np.float32), np.full((80, 40, 3), 0.2, np.float32)])
    assert gray.shape == (50, 60 + 25)


def test_sets_keep_rover_sols_orbital_sources_and_other_groups_apart(other_set):
    table = load_view_sets(ROVER, [ORBITAL], [other_set])
    rover = table[table["view"].isin(["surface", "hardware"])]
    assert set(rover["part"]) == {"early", "later"}
    orbital = table[table["view"] == "orbital"]
    assert all(orbital.groupby("group")["part"].nunique() == 1)
    products = orbital[orbital["path"].str.startswith("product:")]
    assert len(products) == len(PRODUCT_VARIANTS) * orbital["group"].nunique()
    other = table[table["view"] == "other"]
    assert all(other.groupby("group")["part"].nunique() == 1)
    assert len(other) == 7 + 20  # the made set and scikit-image's samples
    assert set(table["view"]) == set(VIEWS)


def test_a_jittered_frame_is_the_same_scene_changed_and_repeats_with_its_seed():
    frame = np.zeros((60, 80, 3), np.float32)
    frame[20:40, 30:50] = (0.8, 0.5, 0.3)  # a lit patch on dark ground
    copy = jittered_frame(frame, np.random.default_rng(7))
    assert copy.shape == frame.shape and copy.dtype == np.float32
    assert 0.0 <= copy.min() and copy.max() <= 1.0
    assert not np.allclose(copy, frame) and copy.max() > 0.2  # changed, and the patch is still in the frame
    assert np.array_equal(copy, jittered_frame(frame, np.random.default_rng(7)))
    turned = {jittered_frame(frame, np.random.default_rng(seed), turn=True).shape for seed in range(12)}
    assert turned == {(60, 80, 3), (80, 60, 3)}


def test_training_copies_depend_on_the_file_and_seed_not_on_where_the_data_lives(tmp_path):
    import shutil

    shutil.copytree(ROVER, tmp_path / "msl")
    here, there = (load_view_sets(folder, [ORBITAL]) for folder in (ROVER, tmp_path / "msl"))
    pick = lambda table: table[table["cls"].isin(["drill_holes", "wheel", "orbital", "surface panorama"])  # noqa: E731
                               ].groupby("cls").head(1)
    rows = pick(here)
    colour, gray, half, extra = describe_views(rows)
    counts = dict(zip(rows["cls"], map(len, extra)))
    assert counts == {"drill_holes": ROVER_COPIES, "wheel": ROVER_COPIES, "orbital": 1, "surface panorama": 0}
    crop = list(rows["cls"]).index("orbital")
    enlarged = view_inputs(rescaled(_pixels(rows["path"].iloc[crop]), DOUBLE))
    assert np.array_equal(extra[crop][0], enlarged)
    frame = list(rows["cls"]).index("drill_holes")
    assert not np.allclose(extra[frame][0], extra[frame][1]) and not np.allclose(extra[frame][0], colour[frame])
    moved = describe_views(pick(there))[3]
    assert all(np.array_equal(a, b) for a, b in zip(extra, moved))
    reseeded = describe_views(rows, seed=1)[3]
    assert not np.array_equal(extra[frame], reseeded[frame]) and np.array_equal(extra[crop], reseeded[crop])


def test_the_fit_learns_from_every_extra_copy_of_the_images_it_is_given():
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"cls": ["ground", "wheel", "orbital", "other clip art"] * 3,
                          "view": ["surface", "hardware", "orbital", "other"] * 3})
    colour = rng.normal(size=(12, 4)) + 3 * np.eye(4)[np.arange(12) % 4]  # each class apart from the rest
    gray, half = colour + 0.1, colour - 0.1
    extra = [np.full((2, 4), 50.0) if view in ("surface", "hardware") else np.empty((0, 4)) for view in table["view"]]
    rows = np.arange(12) < 8  # the last four images are not fitted on, nor are their copies
    model = fit_view_model(colour, gray, half, extra, table, rows)
    rover = rows & table["view"].isin(["surface", "hardware"]).to_numpy()
    seen = np.vstack([colour[rows], gray[rover], half[rows], np.full((2 * rover.sum(), 4), 50.0)])
    assert np.allclose(model.mean, seen.mean(axis=0))
    without = fit_view_model(colour, gray, half, [np.empty((0, 4))] * 12, table, rows)
    assert np.allclose(without.mean, np.vstack([colour[rows], gray[rover], half[rows]]).mean(axis=0))


@pytest.fixture(scope="module")
def trained(tmp_path_factory, other_set):
    folder = tmp_path_factory.mktemp("view")
    summary = train_view(ROVER, [ORBITAL], output=folder / "view_model.json", other=[other_set])
    return folder, summary


def test_training_twice_gives_the_same_files_and_a_loadable_model(trained, tmp_path, other_set):
    folder, summary = trained
    again = train_view(ROVER, [ORBITAL], output=tmp_path / "view_model.json", other=[other_set])
    assert (tmp_path / "view_model.json").read_bytes() == (folder / "view_model.json").read_bytes()
    assert again == summary == json.loads((folder / "view_evaluation.json").read_text())
    model = load_view_model(folder / "view_model.json")
    assert model.classify(np.random.default_rng(3).random((100, 100)).astype(np.float32)).view in VIEWS


def test_the_evaluation_counts_held_out_images_of_every_view(trained):
    _, summary = trained
    rows = {row["view"]: row for row in summary["views"]}
    assert rows["surface"]["n"] == 6 and rows["hardware"]["n"] == 6  # the later sols only
    sources = pd.read_csv(ORBITAL / "labels.csv")["file"].map(source_image_id).nunique()
    assert rows["orbital"]["n"] == 40 and sum(rows["orbital"]["called"].values()) == 40  # real crops only
    assert rows["other"]["n"] == 27
    classes = {row["class"]: row["n"] for row in summary["classes"]}
    assert all(classes[f"orbital {variant}"] == sources for variant in PRODUCT_VARIANTS)  # assembled, rated apart
    assert classes["orbital"] == 40 and classes["other clip art"] == 5
    assert {row["label"] for row in summary["rover_labels"]} == {"ground", "horizon", "drill_holes", "wheel",
                                                                "mastcam_cal_target", "turret"}
    assert 0 <= summary["terrain_vs_hardware_auc"] <= 1
    assert 0 <= summary["reliability"]["ece"] <= 1
    # The same held-out images at half size: rated apart, and how often the composite's gate counts them terrain.
    for row in [*summary["views"], *summary["classes"], *summary["rover_labels"]]:
        assert 0 <= row["correct_at_half"] <= 1
    assert all(set(row["sure_terrain"]) == {"1x", "0.5x"} for row in summary["views"])
    assert rows["orbital"]["sure_terrain"]["1x"] > rows["hardware"]["sure_terrain"]["1x"]


def test_train_view_command_writes_both_files(tmp_path, capsys, monkeypatch):
    from marsviz.view.model import SHIPPED_VIEW_MODEL, load_view_evaluation, load_view_model

    status = main(["train-view", "--rover", str(ROVER), "--orbital", str(ORBITAL), "--output",
                   str(tmp_path / "m.json")])
    assert status == 0
    assert (tmp_path / "m.json").is_file() and (tmp_path / "view_evaluation.json").is_file()
    out, err = capsys.readouterr()
    assert "terrain vs hardware ROC AUC" in out and f"MARSVIZ_VIEW_MODEL={tmp_path / 'm.json'}" in err
    # Without --output: the data folder, never the package's own file.
    shipped = SHIPPED_VIEW_MODEL.read_bytes()
    monkeypatch.setenv("MARSVIZ_HOME", str(tmp_path / "home"))
    assert main(["train-view", "--rover", str(ROVER), "--orbital", str(ORBITAL)]) == 0
    written = tmp_path / "home" / "models" / "view_model.json"
    assert written.read_bytes() == (tmp_path / "m.json").read_bytes() and SHIPPED_VIEW_MODEL.read_bytes() == shipped
    capsys.readouterr()
    monkeypatch.setenv("MARSVIZ_VIEW_MODEL", str(written))
    assert load_view_model().to_json() == written.read_text()
    assert load_view_evaluation() == json.loads((written.parent / "view_evaluation.json").read_text())
    assert main(["train-view", "--rover", str(tmp_path), "--orbital", str(ORBITAL)]) == 2
    assert "cannot read rover labels" in capsys.readouterr().err
    assert main(["train-view", "--rover", str(ROVER), "--orbital", str(ORBITAL), "--other", str(tmp_path)]) == 2
    assert "cannot read other-set labels" in capsys.readouterr().err


def test_make_other_set_command_writes_the_set_and_refuses_an_empty_folder(tmp_path, capsys):
    unpacked = _unpacked_packages(tmp_path / "unpacked")
    assert main(["make-other-set", str(unpacked), "--output", str(tmp_path / "set")]) == 0
    assert "5 clip art" in capsys.readouterr().out
    assert len(pd.read_csv(tmp_path / "set" / "labels.csv")) == 7
    (tmp_path / "empty").mkdir()
    assert main(["make-other-set", str(tmp_path / "empty"), "--output", str(tmp_path / "none")]) == 1
    assert "no images found" in capsys.readouterr().err


def test_the_view_feature_scores_terrain_high_and_hardware_low_and_carries_the_view():
    from marsviz.registry import REGISTRY, compute_values

    feature = REGISTRY["terrain_view_score"]
    assert feature.validated_views is None  # it decides the view, so it applies to every view
    rows = {path.name: row for path, row in
            ((p, compute_values(load_image(p).pixels)) for p in sorted((ROVER / "images").glob("*.JPG")))}
    import pandas as pd

    labels = pd.read_csv(ROVER / "labels.csv").set_index("file")["label"]
    terrain = [rows[f]["terrain_view_score"] for f in rows if labels[f] in ("ground", "horizon")]
    hardware = [rows[f]["terrain_view_score"] for f in rows if labels[f] in ("wheel", "turret", "mastcam_cal_target")]
    assert min(terrain) > max(hardware)
    assert all(row["view"] in VIEWS and row["view_confidence"] >= 0.25 for row in rows.values())


@pytest.mark.parametrize("shape, side", [((384, 512, 3), 128), ((384, 512, 3), 256), ((227, 227), 128),
                                         ((1000, 700, 3), 256), ((511, 509), 128), ((70, 512, 3), 256)])
def test_reduction_is_the_block_mean_to_the_bit(shape, side):
    image = np.random.default_rng(6).random(shape).astype(np.float32)
    small = reduced(image, side)
    factor = image.shape[0] // small.shape[0]
    assert factor > 1 and image.shape[1] // small.shape[1] == factor
    blocks = image[:small.shape[0] * factor, :small.shape[1] * factor].reshape(
        small.shape[0], factor, small.shape[1], factor, *image.shape[2:])
    # Summed along each row's blocks first, then down: the order the shipped view model was trained with.
    np.testing.assert_array_equal(small, blocks.sum(axis=3).sum(axis=1) * np.float32(1 / factor ** 2))

"""Terrain descriptors, the shipped model and the two trained terrain features."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from skimage.feature import graycomatrix, graycoprops

from marsviz.config import AnalysisSettings
from marsviz.decode import load_image
from marsviz.errors import ModelError
from marsviz.evaluate import load_labels, roc_auc, task_targets
from marsviz.registry import REGISTRY, compute_all
from marsviz.terrain import descriptors as d
from marsviz.terrain.features import (explain, ice_terrain_score, image_descriptors, landmark_score,
                                      terrain_scores)
from marsviz.terrain.model import (HAND_MADE, SHIPPED_MODEL, TILE_DESCRIPTOR_NAMES, load_evaluation, load_model,
                                   model_fingerprint, model_from_json)

FIXTURE = Path(__file__).parent / "fixtures" / "hirise"
RNG = np.random.default_rng(42)


def _crop(name: str) -> np.ndarray:
    return load_image(FIXTURE / "images" / name).pixels


# -- descriptors -------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(1, 16, 16), (3, 113, 113), (2, 40, 90)])
def test_descriptors_are_finite_one_row_per_tile_and_leave_the_input_alone(shape):
    tiles = RNG.random(shape, dtype=np.float32)
    before = tiles.copy()
    vectors = d.describe_tiles(tiles)
    assert vectors.shape == (shape[0], len(d.DESCRIPTOR_NAMES))
    assert np.isfinite(vectors).all()
    np.testing.assert_array_equal(tiles, before)


def test_descriptors_of_a_stack_equal_those_of_each_tile():
    tiles = RNG.random((3, 48, 48), dtype=np.float32)
    np.testing.assert_allclose(d.describe_tiles(tiles), np.stack([d.describe(t) for t in tiles]), atol=1e-9)


@pytest.mark.parametrize("value", [0.0, 0.5, 1.0])
def test_a_flat_tile_has_finite_descriptors_and_no_texture(value):
    vector = dict(zip(d.DESCRIPTOR_NAMES, d.describe(np.full((64, 64), value, dtype=np.float32))))
    assert all(np.isfinite(list(vector.values())))
    assert vector["brightness_std"] == 0 and vector["lbp_s1_8"] == 1.0 and vector["glcm_energy"] == 1.0


def test_descriptors_reject_a_tile_that_is_too_small():
    with pytest.raises(ValueError):
        d.describe(np.zeros((8, 8), dtype=np.float32))


def test_lbp_histograms_sum_to_one_and_ignore_monotonic_brightness_changes():
    tiles = RNG.random((2, 50, 60), dtype=np.float32)
    histograms = d.lbp_histograms(tiles)
    np.testing.assert_allclose(histograms.sum(axis=1), 1.0)
    np.testing.assert_array_equal(d.lbp_histograms(0.2 + 0.5 * tiles ** 2), histograms)


@pytest.mark.parametrize("band", range(len(d.GABOR_FREQUENCIES)))
def test_gabor_energy_peaks_at_the_frequency_of_stripes_and_sees_their_direction(band):
    side = 113
    stripes = np.sin(np.arange(side) * 2 * np.pi * d.GABOR_FREQUENCIES[band])[None, :] * np.ones((side, 1))
    noise = RNG.random((side, side), dtype=np.float32)
    stats = d.gabor_statistics(np.stack([0.5 + 0.4 * stripes, noise]).astype(np.float32))
    energy, orientedness, anisotropy = stats[:, 0::4], stats[:, 1::4], stats[:, 3::4]
    assert int(np.argmax(energy[0])) == band
    assert orientedness[0, band] > 2 * orientedness[1, band]  # one direction, against isotropic noise
    assert anisotropy[0, band] > 2 * anisotropy[1, band]


@pytest.mark.parametrize("side", [100, 113])
def test_gabor_ignores_brightness_and_contrast_and_nearly_ignores_rotation_and_mirroring(side):
    crop = d.half_resolution(_crop(sorted((FIXTURE / "images").iterdir())[0].name))[:side, :side]
    assert crop.shape == (side, side)
    stats = d.gabor_statistics(crop[None])[0]
    np.testing.assert_allclose(d.gabor_statistics((0.1 + 0.5 * crop)[None])[0], stats, rtol=1e-3, atol=1e-3)
    for turned in (np.rot90(crop), crop[::-1], crop.T):
        np.testing.assert_allclose(d.gabor_statistics(np.ascontiguousarray(turned)[None])[0], stats,
                                   rtol=0.1, atol=0.1)


def test_a_flat_tile_has_no_gabor_energy_but_finite_statistics():
    stats = d.gabor_statistics(np.full((1, 40, 40), 0.3, dtype=np.float32))[0]
    assert np.isfinite(stats).all()
    assert (stats[0::4] < -15).all()  # log of (almost) no energy relative to the tile's variance


def test_lbp_finds_the_edge_of_a_step():
    step = np.zeros((1, 20, 20), dtype=np.float32)
    step[:, :, 10:] = 1.0
    histogram = d.lbp_histograms(step)[0]
    # Ties count as brighter: the dark column along the step sees 8 of 8, the bright column 5 of 8.
    np.testing.assert_allclose(histogram[5], 1 / 18)
    np.testing.assert_allclose(histogram[8], 17 / 18)


def test_glcm_statistics_match_scikit_image():
    tile = RNG.random((1, 56, 56), dtype=np.float32)
    ours = d.glcm_statistics(tile)[0]
    low, high = d.tile_quantiles(tile, [0.01, 0.99])[0]
    levels = np.clip((tile[0] - low) / (high - low) * d.GLCM_LEVELS, 0, d.GLCM_LEVELS - 1).astype(np.uint8)
    matrix = graycomatrix(levels, [1], [0, np.pi / 2], levels=d.GLCM_LEVELS, symmetric=True)
    pooled = matrix.sum(axis=3, keepdims=True).astype(np.float64)
    pooled /= pooled.sum()
    expected = [graycoprops(pooled, prop)[0, 0] for prop in ("contrast", "homogeneity", "energy", "correlation")]
    np.testing.assert_allclose(ours, expected, rtol=1e-9)


def test_tile_quantiles_agree_with_numpy_to_one_grey_level():
    tiles = RNG.random((4, 30, 30), dtype=np.float32)
    ours = d.tile_quantiles(tiles, [0.05, 0.5, 0.95])
    reference = np.percentile(tiles.reshape(4, -1), [5, 50, 95], axis=1).T
    assert np.abs(ours - reference).max() <= 1.5 / 255


def test_fill_nodata_replaces_a_black_border_by_the_tile_mean():
    tile = np.full((1, 40, 40), 0.6, dtype=np.float32)
    tile[0, :, :10] = 0.0
    filled, valid = d.fill_nodata(tile)
    assert valid[0] == pytest.approx(0.75)
    np.testing.assert_allclose(filled, 0.6)
    assert tile[0, 0, 0] == 0.0


def test_tile_stack_cuts_row_major_equal_tiles():
    image = np.arange(6 * 8).reshape(6, 8)
    stack = d.tile_stack(image, 2, 2)
    np.testing.assert_array_equal(stack[1], image[:3, 4:])
    np.testing.assert_array_equal(stack[2], image[3:, :4])


# -- model -------------------------------------------------------------------------------------------
def test_the_shipped_model_loads_is_small_and_scores_in_range():
    assert SHIPPED_MODEL.stat().st_size < 1_000_000
    model = load_model()
    ice, landmark = model.heads["ice_terrain_score"], model.heads["landmark_score"]
    # Ice terrain: the mean of a head on the hand-made descriptors and one on all; landmark: the one on all.
    assert [head.inputs for head in ice] == [HAND_MADE, None] and [head.inputs for head in landmark] == [None]
    for score in ("ice_terrain_score", "landmark_score"):
        probabilities = model.probabilities(RNG.random((5, len(TILE_DESCRIPTOR_NAMES))), score)
        np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
    for values in model.scores(RNG.random((5, len(TILE_DESCRIPTOR_NAMES)))).values():
        assert ((values >= 0) & (values <= 1)).all()


@pytest.mark.parametrize("score", ["ice_terrain_score", "landmark_score"])
def test_contributions_are_gradient_times_standardised_input(score):
    model = load_model()
    x = image_descriptors(_crop("ESP_030136_0930_RED-0016.jpg")).descriptors[0]

    def log_odds(z):
        value = model.scores(z * model.scale + model.mean)[score][0]
        return np.log(value / (1 - value))

    z = model.standardise(x)[0]
    step = 1e-6
    gradient = np.array([(log_odds(z + step * e) - log_odds(z - step * e)) / (2 * step)
                         for e in np.eye(z.size)])
    np.testing.assert_allclose(model.contributions(x, score), gradient * z, rtol=1e-4, atol=1e-6)


def test_a_model_survives_a_round_trip_through_its_file():
    model = load_model()
    again = model_from_json(model.to_json())
    assert again.to_json() == model.to_json()
    x = RNG.random((3, len(TILE_DESCRIPTOR_NAMES)))
    np.testing.assert_allclose(again.probabilities(x), model.probabilities(x), rtol=1e-7)


def _head(payload, score):
    return payload["heads"][score][0]


def _with_head(payload, score, **changes):
    heads = payload["heads"][score]
    return {**payload, "heads": {**payload["heads"], score: [{**heads[0], **changes}, *heads[1:]]}}


@pytest.mark.parametrize("corrupt", [
    lambda payload: "not json",
    lambda payload: json.dumps({**payload, "format": 99}),
    lambda payload: json.dumps({**payload, "descriptor_names": payload["descriptor_names"][::-1]}),
    lambda payload: json.dumps(_with_head(payload, "ice_terrain_score",
                                          coef=_head(payload, "ice_terrain_score")["coef"][:-1])),
    lambda payload: json.dumps(_with_head(payload, "ice_terrain_score", inputs=[0, 10_000])),
    lambda payload: json.dumps(_with_head(payload, "ice_terrain_score", inputs=[5, 5])),
    lambda payload: json.dumps(_with_head(payload, "landmark_score", kind="mlp")),
    lambda payload: json.dumps({**payload, "heads": {**payload["heads"], "landmark_score": []}}),
    lambda payload: json.dumps({**payload, "calibration": {"ice_terrain_score": [1.0, 0.0]}}),
    lambda payload: json.dumps(_with_head(payload, "landmark_score", kind="forest")),
    lambda payload: json.dumps({**payload, "scale": [0.0] * len(payload["scale"])}),
    lambda payload: json.dumps(_with_head(payload, "ice_terrain_score",
                                          classes=["a"] * len(_head(payload, "ice_terrain_score")["classes"]))),
    lambda payload: json.dumps({**payload, "heads": {"landmark_score": _head(payload, "landmark_score")}}),
    lambda payload: json.dumps({key: value for key, value in payload.items() if key != "mean"}),
])
def test_a_broken_model_file_raises_model_error(tmp_path, corrupt):
    payload = json.loads(SHIPPED_MODEL.read_text())
    path = tmp_path / "model.json"
    path.write_text(corrupt(payload))
    with pytest.raises(ModelError):
        load_model(path)


def test_a_missing_model_file_raises_model_error(tmp_path):
    with pytest.raises(ModelError):
        load_model(tmp_path / "absent.json")


# -- features ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(2, 2), (20, 31), (227, 227), (300, 700), (512, 384, 3), (1024, 768)])
def test_terrain_scores_are_in_range_map_the_image_and_leave_it_alone(shape):
    image = RNG.random(shape, dtype=np.float32)
    before = image.copy()
    results = terrain_scores(image)
    for result in results.values():
        assert 0.0 <= result.value <= 1.0 and np.isfinite(result.value)
        assert result.map.shape == shape[:2] and np.isfinite(result.map).all()
        assert result.map.min() >= 0 and result.map.max() <= 1
    np.testing.assert_array_equal(image, before)


def test_each_feature_alone_equals_the_shared_group_step():
    image = _crop("PSP_004673_0935_RED-0049.jpg")
    together = terrain_scores(image)
    assert ice_terrain_score(image).value == together["ice_terrain_score"].value
    assert landmark_score(image).value == together["landmark_score"].value
    everything = compute_all(image)
    assert everything["ice_terrain_score"].value == together["ice_terrain_score"].value


def test_colour_is_judged_on_its_luminance():
    gray = _crop("ESP_049509_1075_RED-0010.jpg")
    rgb = np.repeat(gray[:, :, None], 3, axis=2)
    assert terrain_scores(rgb)["ice_terrain_score"].value == pytest.approx(
        terrain_scores(gray)["ice_terrain_score"].value, abs=1e-5)


def test_an_all_black_frame_is_not_scored():
    results = terrain_scores(np.zeros((300, 300), dtype=np.float32))
    assert results["ice_terrain_score"].value == 0.0 and results["landmark_score"].value == 0.0


def test_a_training_size_crop_is_one_tile_and_a_large_frame_several():
    assert image_descriptors(np.zeros((227, 227), dtype=np.float32) + 0.5).descriptors.shape[0] == 1
    tiles = image_descriptors(RNG.random((512, 384), dtype=np.float32))
    assert (tiles.rows, tiles.cols) == (2, 2)


def test_the_tile_side_is_passed_down_and_never_read_from_the_environment(monkeypatch):
    image = _crop("PSP_004673_0935_RED-0049.jpg")
    default = terrain_scores(image)
    monkeypatch.setenv("MARSVIZ_TERRAIN_TILE_SIDE", "113")
    # The pure functions keep their default (the training crops' size) whatever the environment says.
    assert terrain_scores(image)["landmark_score"].value == default["landmark_score"].value
    assert image_descriptors(image).descriptors.shape[0] == 1
    small = AnalysisSettings(tile_side=113)
    assert image_descriptors(image, tile_side=113).descriptors.shape[0] == 4
    # The registry passes the run's settings; without any, it resolves them from the environment once.
    given = compute_all(image, settings=small)
    assert given["landmark_score"].value == terrain_scores(image, tile_side=113)["landmark_score"].value
    assert given["landmark_score"].value != default["landmark_score"].value
    assert compute_all(image)["landmark_score"].value == given["landmark_score"].value
    assert explain(image, "landmark_score", tile_side=113)["tile"] in {(0, 0), (0, 1), (1, 0), (1, 1)}


def test_the_map_shows_where_the_ice_terrain_is():
    ice = _crop("PSP_004673_0935_RED-0049.jpg")
    plain = _crop("PSP_007166_1740_RED-0026.jpg")
    frame = np.concatenate([plain, ice], axis=1)
    ice_map = terrain_scores(frame)["ice_terrain_score"].map
    assert ice_map[:, 227 + 20:].mean() > ice_map[:, :227 - 20].mean() + 0.3


def test_the_shipped_model_ranks_the_fixture_ice_crops_first():
    # In-sample (the fixture crops were among the training crops): this checks the model file and the
    # feature path agree with training, not how well the score generalises (docs/evaluation.md does that).
    labels = load_labels(FIXTURE / "labels.csv")
    ice = task_targets(labels)["ice_terrain"]
    values = [ice_terrain_score(_crop(name)).value for name in labels["file"]]
    assert roc_auc(ice, np.array(values)) > 0.9


def test_explain_lists_descriptors_that_push_the_score_each_way():
    explanation = explain(_crop("ESP_030136_0930_RED-0016.jpg"), "ice_terrain_score")
    assert explanation["tile"] == (0, 0)
    assert explanation["likeliest"][0] in load_model().classes("ice_terrain_score")
    assert explanation["up"] and all(row["contribution"] > 0 for row in explanation["up"])
    assert all(row["contribution"] < 0 for row in explanation["down"])
    contributions = [row["contribution"] for row in explanation["up"]]
    assert contributions == sorted(contributions, reverse=True)
    with pytest.raises(ValueError):
        explain(np.zeros((50, 50), dtype=np.float32), "no_such_score")


def test_an_explanation_names_hand_made_descriptors_and_sums_the_network_channels_into_one_row():
    model = load_model()
    image = _crop("ESP_030136_0930_RED-0016.jpg")
    explanation = explain(image, "ice_terrain_score", top=len(d.DESCRIPTOR_NAMES) + 1)
    rows = explanation["up"] + explanation["down"]
    network = [row for row in rows if row["descriptor"] == "pretrained_texture"]
    assert {row["descriptor"] for row in rows} - {"pretrained_texture"} <= set(d.DESCRIPTOR_NAMES)
    every = model.contributions(image_descriptors(image).descriptors[0], "ice_terrain_score")
    total = every[HAND_MADE[1]:].sum()
    if abs(total) > 0:
        assert len(network) == 1 and network[0]["value"] is None
        assert network[0]["contribution"] == pytest.approx(total)


def test_both_terrain_features_are_registered_after_the_seed_four():
    names = list(REGISTRY)
    assert names[4:6] == ["ice_terrain_score", "landmark_score"]
    assert REGISTRY["ice_terrain_score"].group is REGISTRY["landmark_score"].group


def test_the_shipped_evaluation_holds_cross_validated_rows_for_both_trained_scores():
    evaluation = load_evaluation()
    rows = {(row["task"], row["score"]): row for row in evaluation["rows"]}
    for task in ("ice_terrain", "landmark"):
        for score in ("ice_terrain_score", "landmark_score"):
            row = rows[(task, score)]
            assert row["note"] == "held-out source images, calibrated"
            assert row["auc_low"] <= row["auc"] <= row["auc_high"]
    counts = evaluation["dataset"]["label_counts"]
    assert rows[("ice_terrain", "ice_terrain_score")]["n_positive"] == counts["swiss_cheese"] + counts["spider"]
    assert evaluation["dataset"]["crops"] > 6000 and evaluation["protocol"]["grouping"].startswith("source image")
    assert len(evaluation["per_ice_source"]) == evaluation["protocol"]["folds"] == 9
    for table in evaluation["reliability"].values():
        assert table["ece"] <= 0.05
    with pytest.raises(ModelError):
        load_evaluation(SHIPPED_MODEL.with_name("absent.json"))


def test_the_feature_version_follows_the_model_file(tmp_path):
    assert REGISTRY["ice_terrain_score"].version.endswith(model_fingerprint(SHIPPED_MODEL))
    retrained = tmp_path / "model.json"
    retrained.write_text(SHIPPED_MODEL.read_text().replace('"seed": 0', '"seed": 1'))
    assert model_fingerprint(retrained) != model_fingerprint(SHIPPED_MODEL)
    assert model_fingerprint(tmp_path / "absent.json") == "missing"

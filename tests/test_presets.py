"""Composite presets and the multiplying terrain-view factor."""

import numpy as np
import pandas as pd
import pytest

from marsviz import scoring
from marsviz.errors import MarsvizError
from marsviz.registry import REGISTRY
from marsviz.presets import DEFAULT_PRESET, PRESETS, preset_weights
from marsviz.terrain.model import load_evaluation
from marsviz.view.model import load_view_evaluation

SEED_FOUR = ["dark_spot_ratio", "edge_ratio", "colour_variation", "water_ice_ratio"]


def test_every_preset_weighs_registered_features_only_and_the_default_is_one_of_them():
    assert DEFAULT_PRESET in PRESETS
    for name in PRESETS:
        weights = scoring.weights_of_preset(name)
        assert list(weights) == list(REGISTRY) and min(weights.values()) >= 0
        assert any(w for n, w in weights.items() if not REGISTRY[n].gates)
    assert scoring.default_weights() == scoring.weights_of_preset(DEFAULT_PRESET)


def test_an_unknown_preset_or_feature_is_refused_with_the_choices():
    with pytest.raises(MarsvizError, match="water_and_ice"):
        scoring.weights_of_preset("wet")
    with pytest.raises(MarsvizError, match="unknown features: ground_ice_band, ice_terrain_score"):
        preset_weights(DEFAULT_PRESET, SEED_FOUR)


def test_the_seed_preset_is_the_plain_mean_of_the_seed_four():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.random((6, len(REGISTRY))), columns=list(REGISTRY))
    frame["id"], frame["is_color"], frame["view"] = range(6), True, "hardware"
    table = scoring.ranked(frame, scoring.weights_of_preset("seed")).set_index("id").sort_index()
    np.testing.assert_allclose(table["score"], frame[SEED_FOUR].mean(axis=1))


def test_a_gate_multiplies_every_other_feature_and_counts_with_its_weight():
    values = pd.DataFrame({"a": [0.4, 0.4, 0.4, 0.0], "gate": [0.5, np.nan, 0.0, 0.9]})
    gated = scoring.composite_score(values, {"a": 1.0, "gate": 1.0}, gates=["gate"], gate_certainty=1.0)
    # (0.5 x 0.4 + 0.5) / 2; a missing gate neither multiplies nor counts; plain ground scores its gate / 2.
    assert gated.tolist() == pytest.approx([0.35, 0.4, 0.0, 0.45])
    off = scoring.composite_score(values, {"a": 1.0, "gate": 0.0}, gates=["gate"])
    assert off.tolist() == pytest.approx([0.4, 0.4, 0.4, 0.0])
    # Not a gate: a plain weighted mean.
    assert scoring.composite_score(values, {"a": 1.0, "gate": 1.0}).tolist() == pytest.approx([0.45, 0.4, 0.2, 0.45])


def test_a_gate_at_or_above_its_certainty_no_longer_reorders_frames():
    # Orbital crops: the gate is 0.996 to 1.0 on all of them, and the evidence alone must decide their order.
    values = pd.DataFrame({"a": [0.001, 0.003, 0.002, 0.2], "gate": [1.0, 0.996, 0.9, 0.45]})
    score = scoring.composite_score(values, {"a": 1.0, "gate": 1.0}, gates=["gate"], gate_certainty=0.9)
    assert score.tolist() == pytest.approx([0.5005, 0.5015, 0.501, (0.5 * 0.2 + 0.5) / 2])
    assert list(score.sort_values(ascending=False).index) == [1, 2, 0, 3]
    # Without the rule the gate's own differences put the least likely ice crop (row 0) first.
    raw = scoring.composite_score(values.iloc[:2], {"a": 1.0, "gate": 1.0}, gates=["gate"], gate_certainty=1.0)
    assert raw.iloc[0] > raw.iloc[1]
    with pytest.raises(ValueError, match="gate_certainty"):
        scoring.composite_score(values, {"a": 1.0}, gates=["gate"], gate_certainty=0.0)


def test_contributions_sum_to_the_score_with_a_gate():
    row = pd.Series({"a": 0.2, "b": 0.8, "gate": 0.6})
    weights = {"a": 3.0, "b": 1.0, "gate": 1.0}
    parts = scoring.contributions(row, weights, ["gate"], gate_certainty=0.75)
    assert parts["gate"] == pytest.approx(0.8 / 5) and parts["a"] == pytest.approx(3 * 0.8 * 0.2 / 5)
    total = scoring.composite_score(row.to_frame().T, weights, ["gate"], gate_certainty=0.75).iloc[0]
    assert sum(parts.values()) == pytest.approx(total)


def test_a_stand_in_counts_only_where_the_score_it_stands_in_for_does_not():
    values = pd.DataFrame({"trained": [0.8, np.nan], "plain": [0.1, 0.6]})
    stand_ins = {"plain": ("trained",)}
    both = {"trained": 1.0, "plain": 1.0}
    assert scoring.composite_score(values, both, stand_ins=stand_ins).tolist() == pytest.approx([0.8, 0.6])
    # With the trained score weighed 0 the plain measurement counts everywhere, as in the seed method.
    assert scoring.composite_score(values, {"trained": 0.0, "plain": 1.0},
                                   stand_ins=stand_ins).tolist() == pytest.approx([0.1, 0.6])
    assert scoring.composite_score(values, both).tolist() == pytest.approx([0.45, 0.6])  # no rule: a plain mean
    row = values.iloc[0]
    assert scoring.contributions(row, both, stand_ins=stand_ins) == {"trained": pytest.approx(0.8)}


def test_the_seed_water_ice_ratio_stands_in_for_the_ice_score_and_the_other_three_for_the_landmark_score():
    assert scoring.stand_in_map() == {"dark_spot_ratio": ("landmark_score",), "edge_ratio": ("landmark_score",),
                                      "colour_variation": ("landmark_score",),
                                      "water_ice_ratio": ("ice_terrain_score",)}


def _catalog_frame() -> pd.DataFrame:
    """An ice crop, a plain orbital crop, a rover ground frame and a bright, edgy calibration-target frame."""
    rows = [
        {"id": 1, "view": "orbital", "is_color": False, "ice_terrain_score": 0.7, "landmark_score": 0.9,
         "terrain_view_score": 0.99, "dark_spot_ratio": 0.05, "edge_ratio": 0.05, "colour_variation": 0.0,
         "water_ice_ratio": 0.01},
        {"id": 2, "view": "orbital", "is_color": False, "ice_terrain_score": 0.002, "landmark_score": 0.1,
         "terrain_view_score": 0.99, "dark_spot_ratio": 0.1, "edge_ratio": 0.1, "colour_variation": 0.0,
         "water_ice_ratio": 0.02},
        {"id": 3, "view": "surface", "is_color": True, "ice_terrain_score": 0.9, "landmark_score": 0.9,
         "terrain_view_score": 0.95, "dark_spot_ratio": 0.1, "edge_ratio": 0.2, "colour_variation": 0.1,
         "water_ice_ratio": 0.05},
        {"id": 4, "view": "hardware", "is_color": True, "ice_terrain_score": 0.9, "landmark_score": 0.9,
         "terrain_view_score": 0.02, "dark_spot_ratio": 0.4, "edge_ratio": 0.5, "colour_variation": 0.6,
         "water_ice_ratio": 0.5},
    ]
    return pd.DataFrame(rows)


def test_water_and_ice_ranks_the_ice_crop_first_and_the_calibration_target_below_the_ground_frame():
    table = scoring.ranked(_catalog_frame(), scoring.weights_of_preset("water_and_ice")).set_index("id")
    assert table["rank"].tolist()[0] == 1 and table.index[0] == 1
    # The bright calibration target has ten times the ground frame's water/ice candidates, yet ranks below it.
    assert table.loc[4, "rank"] > table.loc[3, "rank"]
    gate = 0.02 / scoring.GATE_CERTAINTY
    assert table.loc[4, "score"] == pytest.approx((gate * 0.5 + gate) / 2)
    assert table.loc[3, "score"] == pytest.approx((0.05 + 1.0) / 2)  # 0.95 is above the gate's certainty


def test_the_seed_method_ranks_the_calibration_target_first_as_the_seed_did():
    assert scoring.ranked(_catalog_frame(), scoring.weights_of_preset("seed"))["id"].tolist()[0] == 4


def test_unusual_terrain_ranks_the_landmark_crop_first_and_the_calibration_target_last():
    order = scoring.ranked(_catalog_frame(), scoring.weights_of_preset("unusual_terrain"))["id"].tolist()
    assert order[0] == 1 and order[-1] == 4


def test_the_shipped_evaluations_measured_every_preset_with_its_current_weights():
    rows = load_evaluation()["presets"] + load_view_evaluation()["presets"]
    for name, preset in PRESETS.items():
        own = [row for row in rows if row["preset"] == name]
        assert {row["task"] for row in own} == {"ice_terrain", "landmark", "terrain_vs_hardware"}
        assert all(row["weights"] == {k: w for k, w in preset.weights.items() if w} for row in own), name
        assert all(0.0 <= row["auc"] <= 1.0 for row in own)

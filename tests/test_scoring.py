"""Composite score, robust outliers, projection and neighbours."""

import numpy as np
import pandas as pd
import pytest

from marsviz import scoring


def test_composite_is_the_weighted_mean():
    values = pd.DataFrame({"a": [0.2, 1.0], "b": [0.8, 0.0]})
    score = scoring.composite_score(values, {"a": 3, "b": 1})
    assert score.tolist() == pytest.approx([(0.6 + 0.8) / 4, 0.75])


def test_missing_values_drop_out_instead_of_counting_as_zero():
    values = pd.DataFrame({"a": [0.4], "b": [np.nan]})
    assert scoring.composite_score(values, {"a": 1, "b": 1}).iloc[0] == pytest.approx(0.4)


def test_zero_weights_are_ignored_and_all_zero_gives_no_score():
    values = pd.DataFrame({"a": [0.4], "b": [0.9]})
    assert scoring.composite_score(values, {"a": 1, "b": 0}).iloc[0] == pytest.approx(0.4)
    assert scoring.composite_score(values, {"a": 0, "b": 0}).isna().all()
    with pytest.raises(ValueError):
        scoring.composite_score(values, {"a": -1, "b": 1})


def test_contributions_sum_to_the_score():
    row = pd.Series({"a": 0.2, "b": 0.8})
    weights = {"a": 3.0, "b": 1.0}
    parts = scoring.contributions(row, weights)
    assert sum(parts.values()) == pytest.approx(scoring.composite_score(row.to_frame().T, weights).iloc[0])


def test_an_injected_extreme_is_the_only_outlier_and_its_feature_is_named():
    rng = np.random.default_rng(3)
    matrix = rng.normal(0.3, 0.02, size=(200, 3))
    matrix[17, 1] = 0.9
    score, z = scoring.outlier_scores(matrix)
    assert np.flatnonzero(score > scoring.OUTLIER_THRESHOLD).tolist() == [17]
    assert scoring.outlier_reasons(z[17], ["a", "b", "c"]) == ["b"]


def test_a_mostly_zero_feature_does_not_make_every_nonzero_image_an_outlier():
    column = np.zeros(100)
    column[:30] = np.linspace(0.001, 0.05, 30)
    flagged = scoring.outlier_scores(column[:, None])[0] > scoring.OUTLIER_THRESHOLD
    # with the MAD alone (0 here) all 30 non-zero images would be outliers
    assert 0 < flagged.sum() < 15 and flagged[29]


def test_constant_columns_and_nan_are_handled():
    matrix = np.array([[0.5, np.nan], [0.5, 0.2], [0.5, 0.3]])
    z = scoring.robust_z(matrix)
    assert (z[:, 0] == 0).all() and np.isnan(z[0, 1])


def test_projection_is_deterministic_and_two_dimensional():
    matrix = np.random.default_rng(0).random((50, 4))
    first, second = scoring.projection_2d(matrix), scoring.projection_2d(matrix.copy())
    assert first.shape == (50, 2)
    np.testing.assert_allclose(first, second)


def test_a_few_extreme_images_do_not_squeeze_the_projection():
    rng = np.random.default_rng(1)
    matrix = rng.normal(0.3, 0.02, (200, 5))
    matrix[:4] = [5.0, 9.0, -3.0, 7.0, 4.0]  # four images far from all others
    projected = scoring.projection_2d(matrix)
    for axis in range(2):
        values = projected[:, axis]
        spread = np.subtract(*np.percentile(values[4:], [95, 5]))
        assert spread > 0.3 * (values.max() - values.min())  # the bulk fills the axis, not a sliver of it
    centred = matrix - matrix.mean(axis=0)
    on_values = centred @ np.linalg.svd(centred, full_matrices=False)[2][0]
    assert np.subtract(*np.percentile(on_values[4:], [95, 5])) < 0.05 * np.ptp(on_values)  # as it was before


def test_nearest_neighbours_exclude_self_and_are_sorted():
    z = np.array([[0.0], [0.1], [5.0], [0.3]])
    result = scoring.nearest_neighbours(z, 0, count=2)
    assert [i for i, _ in result] == [1, 3]
    assert result[0][1] <= result[1][1]


def test_nearest_neighbours_match_a_full_sort_ties_in_row_order():
    z = np.round(np.random.default_rng(3).normal(size=(2000, 4)), 1)  # rounded: many equal distances
    z[::9, 2], z[5, 0] = np.nan, 40.0  # not applicable counts as typical; extremes are clipped
    points = scoring.neighbour_space(z)
    reference = np.clip(np.nan_to_num(z), -10, 10)
    for index in (0, 5, 1999):
        distance = np.sqrt(((reference - reference[index]) ** 2).sum(axis=1))
        distance[index] = np.inf
        expected = np.argsort(distance, kind="stable")[:7]
        result = scoring.nearest_neighbours(points, index, count=7)
        assert [i for i, _ in result] == expected.tolist()
        assert [d for _, d in result] == pytest.approx(distance[expected], rel=1e-5)
    assert scoring.nearest_neighbours(points[:1], 0) == []


def test_ranked_orders_by_score_and_treats_colour_of_grayscale_as_missing():
    frame = pd.DataFrame({"id": [1, 2], "is_color": [False, True], "dark_spot_ratio": [0.5, 0.5],
                          "edge_ratio": [0.5, 0.5], "colour_variation": [0.0, 0.1], "water_ice_ratio": [0.5, 0.5]})
    table = scoring.ranked(frame, scoring.weights_of_preset("seed"))
    # the grayscale image is not penalised for having "no colour": its mean is over three features
    assert table.iloc[0]["id"] == 1 and table.iloc[0]["score"] == pytest.approx(0.5)
    assert table["rank"].tolist() == [1, 2]


def test_trained_scores_drop_out_of_images_of_a_view_they_were_not_validated_on():
    frame = pd.DataFrame({"id": [1, 2, 3], "is_color": [False, True, True], "view": ["orbital", "hardware", None],
                          "dark_spot_ratio": [0.2, 0.2, 0.2], "ice_terrain_score": [0.9, 0.9, 0.9]})
    values = scoring.applicable_values(frame)
    assert pd.isna(values["ice_terrain_score"][1])
    assert values["ice_terrain_score"][0] == 0.9 and values["ice_terrain_score"][2] == 0.9  # unknown view: kept
    assert values["dark_spot_ratio"].notna().all()  # a plain measurement applies to every view
    weights = {"dark_spot_ratio": 1.0, "ice_terrain_score": 1.0}
    table = scoring.ranked(frame, weights).set_index("id")
    assert table.loc[2, "score"] == pytest.approx(0.2) and table.loc[1, "score"] == pytest.approx(0.55)


def test_a_frame_in_rank_order_is_ranked_without_a_copy_and_as_any_other_order():
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"id": np.arange(1, 201), "is_color": rng.random(200) > 0.5,
                          **{name: rng.random(200) for name in ("dark_spot_ratio", "edge_ratio", "colour_variation",
                                                               "water_ice_ratio")}})
    frame.loc[[5, 50], "dark_spot_ratio"] = np.nan
    weights = scoring.weights_of_preset("seed")
    shuffled = frame.sample(frac=1, random_state=1).reset_index(drop=True)
    in_order = shuffled.take(scoring.rank_order(shuffled, weights)).reset_index(drop=True)
    expected = scoring.ranked(shuffled, weights)
    table = scoring.ranked(in_order, weights)
    pd.testing.assert_frame_equal(table, expected)
    assert np.shares_memory(table["edge_ratio"].to_numpy(), in_order["edge_ratio"].to_numpy())
    assert not np.shares_memory(expected["edge_ratio"].to_numpy(), shuffled["edge_ratio"].to_numpy())
    assert "score" not in in_order  # the shared frame gains no columns

"""An image's report (what the viewer shows) is built in the package from one analysis pass."""

import numpy as np
import pandas as pd
import pytest

from marsviz import scoring
from marsviz.catalog import Catalog
from marsviz.config import AnalysisSettings
from marsviz.decode import load_image
from marsviz.registry import REGISTRY, appearance_names, compute_all
from marsviz.report import feature_lines, image_report, left_out_notes, outlier_context, terrain_explanations
from marsviz.terrain.features import explain


@pytest.fixture
def catalog(small_catalog_home):
    return Catalog()


def _report(catalog, row, weights):
    frame = catalog.frame()
    z = scoring.robust_z(scoring.appearance_values(scoring.applicable_values(frame)).to_numpy(dtype=float))
    settings = AnalysisSettings.from_environment()
    pixels = load_image(catalog.image_path(row), max_side=settings.max_side).pixels
    return image_report(row, pixels, compute_all(pixels, settings=settings), weights, frame["id"].to_numpy(), z)


def test_the_score_points_of_every_image_sum_to_its_ranked_score(catalog):
    weights = scoring.default_weights()
    table = scoring.ranked(catalog.frame(), weights)
    for row in table.to_dict(orient="records"):
        adds = [line.adds for line in feature_lines(row, weights) if line.adds is not None]
        if pd.isna(row["score"]):
            assert not adds
        else:
            assert sum(adds) == pytest.approx(row["score"], abs=1e-9)


def test_a_line_says_why_a_feature_does_not_apply():
    row = {"id": 1, "is_color": False, "view": "hardware", **{name: 0.5 for name in REGISTRY}}
    lines = {line.name: line for line in feature_lines(row, scoring.default_weights())}
    assert lines["colour_variation"].not_applied == "grayscale"
    assert lines["ice_terrain_score"].not_applied == "hardware view"
    assert lines["ice_terrain_score"].value is None and lines["ice_terrain_score"].adds is None
    assert lines["edge_ratio"].not_applied is None and lines["edge_ratio"].value == 0.5


def test_a_stand_in_is_replaced_where_its_trained_score_counts_and_counts_where_it_does_not():
    weights = {"water_ice_ratio": 1.0, "ice_terrain_score": 1.0}
    values = {name: 0.4 for name in REGISTRY}
    orbital = {"id": 1, "is_color": False, "view": "orbital", **values}
    surface = {**orbital, "view": "surface"}
    on_orbital = {line.name: line for line in feature_lines(orbital, weights)}
    on_surface = {line.name: line for line in feature_lines(surface, weights)}
    assert on_orbital["water_ice_ratio"].replaced_by == REGISTRY["ice_terrain_score"].label
    assert on_orbital["water_ice_ratio"].adds is None
    assert on_surface["water_ice_ratio"].replaced_by is None
    assert on_surface["water_ice_ratio"].adds == pytest.approx(0.4)
    assert any(note.startswith("Potential water/ice is replaced here") for note in left_out_notes(orbital, weights))
    assert not any("replaced" in note for note in left_out_notes(surface, weights))
    assert any("never validated" in note for note in left_out_notes(surface, weights))


def test_outlier_reasons_and_neighbours_come_from_the_catalogs_z_scores():
    ids = np.array([10, 11, 12, 13])
    z = np.zeros((4, len(REGISTRY)))
    z[0, 2], z[0, 4] = -8.0, 5.0
    z[1] = 0.1
    z[3] = 3.0
    reasons, near = outlier_context(10, ids, z, neighbours=2)
    names = list(REGISTRY)
    assert reasons == [(names[2], -8.0), (names[4], 5.0)]
    assert [image for image, _ in near] == [12, 11]
    assert near[0][1] == pytest.approx(np.hypot(8.0, 5.0))
    assert outlier_context(99, ids, z) == ([], [])


def test_terrain_explanations_are_those_of_the_analysis_pass_and_only_where_the_view_was_validated():
    image = np.random.default_rng(1).random((300, 300)).astype(np.float32)
    results = compute_all(image)
    orbital = terrain_explanations({"view": "orbital"}, results)
    assert sorted(orbital) == ["ice_terrain_score", "landmark_score"]
    for score, why in orbital.items():
        assert why == explain(image, score)
    assert terrain_explanations({"view": "hardware"}, results) == {}


def test_the_report_of_a_catalog_image_holds_what_the_viewer_shows(catalog):
    frame = catalog.frame()
    orbital = catalog.get(int(frame[frame["view"] == "orbital"].iloc[0]["id"]))
    report = _report(catalog, orbital, scoring.default_weights())
    assert [line.name for line in report.features] == list(REGISTRY)
    assert set(report.explanations) == {"ice_terrain_score", "landmark_score"}
    assert len(report.neighbours) == 6 and orbital["id"] not in dict(report.neighbours)
    drawn = report.overlay(["edge_ratio"])
    assert drawn.shape == (*report.pixels.shape[:2], 3) and drawn.dtype == np.uint8
    assert not np.array_equal(drawn, report.overlay([]))
    stored = {name: orbital[name] for name in appearance_names()}
    assert {name: result.value for name, result in report.results.items()} == pytest.approx(stored, abs=1e-6)

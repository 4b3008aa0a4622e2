"""The pretrained texture network: what it returns per tile, and a clear error when it cannot run."""

import sys

import numpy as np
import pytest
from skimage import data

from marsviz.errors import ModelError
from marsviz.terrain import backbone
from marsviz.terrain.backbone import BACKBONE_NAMES, backbone_descriptors

GRAVEL = data.gravel()[:192, :192].astype(np.float32) / 255   # a real texture photograph
BRICK = data.brick()[:192, :192].astype(np.float32) / 255


def test_one_vector_of_every_channel_per_tile():
    values = backbone_descriptors(np.hstack([GRAVEL, BRICK]), 1, 2)
    assert values.shape == (2, len(BACKBONE_NAMES)) == (2, 2 * (40 + 80 + 112))
    assert np.isfinite(values).all()


def test_each_tile_is_described_by_what_lies_in_it():
    same = backbone_descriptors(np.vstack([GRAVEL, GRAVEL]), 2, 1)
    different = backbone_descriptors(np.vstack([GRAVEL, BRICK]), 2, 1)
    # The gravel tile reads (nearly) the same beside gravel as beside brick, and brick reads differently; two
    # gravel tiles differ a little (the image's edges and the network's reach across the seam).
    apart = np.linalg.norm(different[0] - different[1])
    assert np.linalg.norm(same[0] - different[0]) < 0.15 * apart
    assert np.linalg.norm(same[0] - same[1]) < 0.4 * apart


def test_the_same_pixels_give_the_same_values():
    image = np.random.default_rng(3).random((120, 200)).astype(np.float32)
    np.testing.assert_array_equal(backbone_descriptors(image, 1, 2), backbone_descriptors(image.copy(), 1, 2))


def test_small_tiles_are_enlarged_not_refused():
    values = backbone_descriptors(GRAVEL[:20, :40], 1, 2)
    assert values.shape == (2, len(BACKBONE_NAMES)) and np.isfinite(values).all()
    # Pixel repetition keeps what a tile shows: a 2x-repeated image reads like itself enlarged by the code.
    twice = np.repeat(np.repeat(GRAVEL[:20, :40], 2, axis=0), 2, axis=1)
    np.testing.assert_allclose(backbone_descriptors(twice, 1, 2), values, atol=1e-5)


@pytest.mark.parametrize("shape, grid", [((64, 64, 3), (1, 1)), ((4, 64), (5, 1)), ((64, 64), (0, 1))])
def test_images_it_cannot_describe_are_refused(shape, grid):
    with pytest.raises(ValueError):
        backbone_descriptors(np.zeros(shape, dtype=np.float32), *grid)


def test_without_onnxruntime_the_error_says_what_to_install(monkeypatch):
    backbone._session.cache_clear()
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    try:
        with pytest.raises(ModelError, match="pip install onnxruntime"):
            backbone_descriptors(GRAVEL, 1, 1)
    finally:
        backbone._session.cache_clear()


def test_a_damaged_network_file_is_a_model_error(monkeypatch, tmp_path):
    damaged = tmp_path / "backbone.onnx"
    damaged.write_bytes(backbone.BACKBONE_FILE.read_bytes()[:5000])
    backbone._session.cache_clear()
    monkeypatch.setattr(backbone, "BACKBONE_FILE", damaged)
    try:
        with pytest.raises(ModelError, match="cannot be loaded"):
            backbone_descriptors(GRAVEL, 1, 1)
    finally:
        backbone._session.cache_clear()


class _CountingSession:
    """The real network session, counting its passes."""

    def __init__(self, session):
        self.session, self.passes = session, 0

    def run(self, *args, **kwargs):
        self.passes += 1
        return self.session.run(*args, **kwargs)


@pytest.fixture
def counting(monkeypatch):
    backbone.forget_feature_maps()
    session = _CountingSession(backbone._session())
    monkeypatch.setattr(backbone, "_session", lambda: session)
    yield session
    backbone.forget_feature_maps()


def test_the_same_pixels_given_again_reuse_the_networks_pass(counting):
    image = np.random.default_rng(4).random((96, 128)).astype(np.float32)
    first = backbone_descriptors(image, 2, 2)
    assert counting.passes == 1
    # Another grid over the same pixels (the view's whole frame after the terrain's tiles) costs no pass.
    whole = backbone_descriptors(image.copy(), 1, 1)
    assert counting.passes == 1
    backbone.forget_feature_maps()
    np.testing.assert_array_equal(backbone_descriptors(image, 2, 2), first)
    np.testing.assert_array_equal(backbone_descriptors(image, 1, 1), whole)
    assert counting.passes == 2


def test_other_pixels_run_the_network_and_only_the_last_inputs_are_kept(counting):
    first = np.random.default_rng(5).random((64, 64)).astype(np.float32)
    second = first.copy()
    second[0, 0] += 0.01   # one pixel changed is another input
    third = np.full((64, 64), 0.5, np.float32)
    for image, passes in ((first, 1), (second, 2), (first, 2), (third, 3), (second, 4)):
        backbone_descriptors(image, 1, 1)
        assert counting.passes == passes
    assert backbone.KEPT_INPUTS == 2 and len(backbone._kept_maps) == 2


def test_kept_maps_cannot_be_changed_by_a_caller(counting):
    maps = backbone.feature_maps(GRAVEL)
    with pytest.raises(ValueError):
        maps[0][...] = 0


def test_one_network_pass_serves_the_terrain_scores_and_the_view_of_a_frame_over_256_px(counting):
    from marsviz.decode import load_image
    from marsviz.registry import compute_values
    from marsviz.samples import SAMPLES_DIR

    frame = load_image(SAMPLES_DIR / "mer_opportunity_PIA13593_fullres.jpg").pixels
    assert max(frame.shape[:2]) == 512
    values = compute_values(frame)
    assert counting.passes == 1
    backbone.forget_feature_maps()
    assert compute_values(frame) == values   # kept maps change nothing
    # A frame of at most 256 px is seen whole by the view and halved by the terrain scores: two passes.
    crop = frame[:200, :250]
    compute_values(crop)
    assert counting.passes == 4

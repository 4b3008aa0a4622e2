"""Overlays: each feature's map drawn in its colour where the map is set, nowhere else."""

import numpy as np
import pytest

from marsviz.features import FeatureResult
from marsviz.registry import REGISTRY
from marsviz import overlays
from marsviz.overlays import colour_name, render_overlays, to_rgb8

GREY = 0.5


def grey_image(height=8, width=10):
    return np.full((height, width), GREY, dtype=np.float32)


def left_half_mask(height=8, width=10):
    mask = np.zeros((height, width), dtype=bool)
    mask[:, : width // 2] = True
    return mask


def test_a_mask_is_drawn_in_its_colour_at_the_given_opacity_and_only_where_set():
    image = grey_image()
    name = "dark_spot_ratio"
    drawn = render_overlays(image, {name: FeatureResult(0.5, left_half_mask())}, [name], opacity=0.5)
    colour = np.array(REGISTRY[name].overlay_colour)
    expected_inside = np.round(0.5 * 128 + 0.5 * colour)  # to_rgb8(0.5) is 128
    assert drawn.dtype == np.uint8 and drawn.shape == (8, 10, 3)
    assert np.all(drawn[:, :5] == expected_inside)
    assert np.all(drawn[:, 5:] == 128)


def test_full_opacity_paints_the_colour_and_a_float_map_scales_it():
    image = grey_image()
    name = "colour_variation"
    heat = np.zeros((8, 10), dtype=np.float32)
    heat[0, 0], heat[0, 1] = 1.0, 0.25
    drawn = render_overlays(image, {name: FeatureResult(0.1, heat)}, [name], opacity=1.0)
    colour = np.array(REGISTRY[name].overlay_colour)
    assert np.array_equal(drawn[0, 0], colour)
    assert np.array_equal(drawn[0, 1], np.round(0.75 * 128 + 0.25 * colour))
    assert np.all(drawn[1:] == 128)


def test_no_overlay_chosen_returns_the_image_and_the_input_is_untouched():
    image = np.random.default_rng(0).random((6, 7, 3), dtype=np.float32)
    original = image.copy()
    drawn = render_overlays(image, {"edge_ratio": FeatureResult(0.5, np.ones((6, 7), bool))}, [])
    assert np.array_equal(drawn, to_rgb8(image))
    assert np.array_equal(image, original)


def test_overlays_are_drawn_in_order_the_last_on_top():
    image = grey_image()
    first, last = "dark_spot_ratio", "edge_ratio"
    everywhere = np.ones((8, 10), dtype=bool)
    results = {first: FeatureResult(1.0, everywhere), last: FeatureResult(1.0, everywhere)}
    drawn = render_overlays(image, results, [first, last], opacity=1.0)
    assert np.all(drawn == np.array(REGISTRY[last].overlay_colour))


@pytest.mark.parametrize("opacity", [-0.1, 1.5])
def test_opacity_outside_zero_to_one_is_refused(opacity):
    with pytest.raises(ValueError, match="opacity"):
        render_overlays(grey_image(), {}, [], opacity=opacity)


def test_a_map_at_analysis_size_is_drawn_smoothly_on_a_larger_display_image():
    analysis = np.zeros((40, 50), bool)
    analysis[10:30, 10:30] = True
    display = np.full((160, 200), 0.5)  # the same image decoded four times larger
    drawn = render_overlays(display, {"edge_ratio": FeatureResult(0.0, analysis)}, ["edge_ratio"], opacity=1.0)
    colour = np.array(REGISTRY["edge_ratio"].overlay_colour)
    assert drawn.shape == (160, 200, 3)
    assert np.all(drawn[60:100, 60:100] == colour) and np.all(drawn[:20, :20] == 128)
    edge_row = drawn[80, 30:50].astype(int)
    steps = {tuple(px) for px in edge_row} - {tuple(colour), (128, 128, 128)}
    assert len(steps) >= 2  # the border blends over several display pixels, not one 4-pixel block step


def test_a_map_of_another_shape_is_refused():
    with pytest.raises(ValueError, match="shape"):
        render_overlays(grey_image(), {"edge_ratio": FeatureResult(0.0, np.zeros((4, 12), bool))}, ["edge_ratio"])


def test_every_registry_colour_has_its_own_plain_name():
    drawn = [name for name, feature in REGISTRY.items() if not feature.context]  # context features draw nothing
    names = [colour_name(REGISTRY[name].overlay_colour) for name in drawn]
    assert len(set(names)) == len(names), dict(zip(drawn, names))
    assert colour_name((250, 250, 250)) == "white"
    with pytest.raises(ValueError):
        colour_name((1, 2))


@pytest.mark.parametrize("zoom", [1, 2, 3.5, 8])
@pytest.mark.parametrize("centre", [(0.5, 0.5), (0.0, 0.0), (1.0, 1.0), (0.9, 0.2)])
def test_a_zoom_window_is_a_zoomth_of_the_image_inside_it_around_the_centre(zoom, centre):
    height, width = 385, 512
    rows, columns = overlays.zoom_window((height, width), zoom, centre)
    assert rows.stop - rows.start == round(height / zoom) and columns.stop - columns.start == round(width / zoom)
    assert 0 <= rows.start < rows.stop <= height and 0 <= columns.start < columns.stop <= width
    # the centre is in the window, as near its middle as the image's edges allow
    x, y = centre[0] * width, centre[1] * height
    assert columns.start <= x <= columns.stop and rows.start <= y <= rows.stop
    if columns.start > 0 and columns.stop < width:
        assert abs((columns.start + columns.stop) / 2 - x) <= 1
    if zoom == 1:
        assert (rows, columns) == (slice(0, height), slice(0, width))


def test_a_zoom_window_of_a_tiny_image_keeps_a_pixel_and_bad_input_is_refused():
    assert overlays.zoom_window((3, 2), 8, (0.5, 0.5)) == (slice(1, 2), slice(0, 1))
    with pytest.raises(ValueError, match="zoom"):
        overlays.zoom_window((10, 10), 0.5, (0.5, 0.5))
    with pytest.raises(ValueError, match="centre"):
        overlays.zoom_window((10, 10), 2, (1.5, 0.5))


def test_overlays_drawn_over_a_part_match_the_same_part_of_the_whole_drawing():
    rng = np.random.default_rng(5)
    image = rng.random((120, 160, 3)).astype(np.float32)
    mapped = [name for name, feature in REGISTRY.items() if feature.has_overlay][:2]
    results = {name: FeatureResult(value=0.5, map=rng.random((30, 40)).astype(np.float32)) for name in mapped}
    whole = render_overlays(image, results, mapped)
    rows, columns = overlays.zoom_window(image.shape[:2], 4, (0.8, 0.3))
    part = render_overlays(image[rows, columns], results, mapped, part=(image.shape[:2], rows, columns))
    assert np.abs(part.astype(int) - whole[rows, columns].astype(int)).max() <= 1
    with pytest.raises(ValueError, match="size"):
        render_overlays(image[:10, :10], results, mapped, part=(image.shape[:2], rows, columns))

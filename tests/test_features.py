"""Seed features: known answers on synthetic images, properties on real ones, and the registry contract."""

import numpy as np
import pytest

from marsviz.decode import load_image
from marsviz.features import FeatureResult, colour_variation, dark_spot_ratio, edge_ratio, water_ice_ratio
from marsviz.registry import REGISTRY, appearance_names, compute_all, context_names, feature_set_version
from marsviz.features._stats import MEDIAN_STEP, frame_median
from marsviz.samples import SAMPLES_DIR, manifest

DUSTY_RED = (0.55, 0.35, 0.22)


def quarter(image, value):
    out = image.copy()
    out[: image.shape[0] // 2, : image.shape[1] // 2] = value
    return out


def test_dark_spot_ratio_counts_a_dark_quarter():
    image = quarter(np.full((64, 64), 0.6, dtype=np.float32), 0.05)
    result = dark_spot_ratio(image)
    assert result.value == pytest.approx(0.25)
    assert result.map.dtype == bool and result.map[:32, :32].all() and not result.map[32:, 32:].any()


def test_dark_spot_ratio_is_relative_to_the_frame():
    uniformly_dim = np.full((32, 32), 0.1, dtype=np.float32)
    assert dark_spot_ratio(uniformly_dim).value == 0.0


def test_water_ice_ratio_finds_white_frost_on_red_dust():
    image = quarter(np.broadcast_to(np.array(DUSTY_RED, np.float32), (64, 64, 3)).copy(), 0.95)
    assert water_ice_ratio(image).value == pytest.approx(0.25)


def test_water_ice_ratio_ignores_bright_red_rock():
    image = np.broadcast_to(np.array(DUSTY_RED, np.float32), (64, 64, 3)).copy()
    image = quarter(image, (0.95, 0.7, 0.5))
    assert water_ice_ratio(image).value == 0.0


def test_edge_ratio_is_zero_on_flat_and_positive_on_a_step():
    flat = np.full((64, 64), 0.5, dtype=np.float32)
    step = flat.copy()
    step[:, 32:] = 0.9
    assert edge_ratio(flat).value == 0.0
    result = edge_ratio(step)
    assert 0 < result.value < 0.1
    assert result.map[:, 30:34].any() and not result.map[:, :20].any()


def test_colour_variation_counts_a_differently_coloured_quarter():
    image = np.broadcast_to(np.array(DUSTY_RED, np.float32), (64, 64, 3)).copy()
    image = quarter(image, (0.3, 0.4, 0.6))
    assert colour_variation(image).value == pytest.approx(0.25)


def test_grayscale_has_no_colour_variation_even_when_noisy():
    noisy = np.random.default_rng(1).random((64, 64), dtype=np.float32)
    result = colour_variation(noisy)
    assert result.value == 0.0 and not result.map.any()


@pytest.mark.parametrize("shape", [(1, 1), (1, 2), (3, 5), (4, 4), (9, 7), (256, 255), (512, 509)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_frame_median_equals_numpy_median_of_its_sample(shape, dtype):
    rng = np.random.default_rng(sum(shape))
    for values in (rng.random(shape).astype(dtype), np.round(rng.random(shape) * 3).astype(dtype)):
        original = values.copy()
        assert frame_median(values) == float(np.median(values[::MEDIAN_STEP, ::MEDIAN_STEP]))
        assert np.array_equal(values, original)


@pytest.mark.parametrize("feature", [REGISTRY[n] for n in appearance_names()], ids=appearance_names())
@pytest.mark.parametrize("shape", [(40, 60), (40, 60, 3), (7, 300, 3)])
def test_every_feature_is_pure_in_range_and_maps_the_image(feature, shape):
    image = np.random.default_rng(0).random(shape, dtype=np.float32)
    before = image.copy()
    result = feature.function(image)
    assert isinstance(result, FeatureResult)
    assert 0.0 <= result.value <= 1.0 and np.isfinite(result.value)
    assert result.map.shape == shape[:2]
    np.testing.assert_array_equal(image, before)


@pytest.mark.parametrize("feature", [REGISTRY[n] for n in appearance_names()], ids=appearance_names())
@pytest.mark.parametrize("bad", [np.zeros((5, 5, 4), np.float32), np.zeros((8, 8), np.uint8),
                                 np.zeros((1, 9), np.float32), np.zeros(9, np.float32)])
def test_every_feature_rejects_bad_input(feature, bad):
    with pytest.raises(ValueError):
        feature.function(bad)


@pytest.mark.parametrize("feature", list(REGISTRY.values()), ids=list(REGISTRY))
def test_every_feature_is_documented(feature):
    assert feature.label.strip()
    for text in (feature.measures, feature.method, feature.why, feature.limits):
        assert len(text.strip()) > 20
    assert feature.version
    assert feature.function.__doc__ and "Returns" in feature.function.__doc__


@pytest.mark.parametrize("name", context_names())
def test_every_context_feature_is_in_range_poleward_never_lower_and_unknown_where_the_place_is(name):
    latitude = np.array([-90.0, -80.0, -70.0, -60.0, -45.0, 0.0, 45.0, 60.0, 90.0, np.nan])
    values = REGISTRY[name].function(latitude, np.zeros_like(latitude))
    assert values.shape == latitude.shape and np.isnan(values[-1])
    assert ((values[:-1] >= 0) & (values[:-1] <= 1)).all() and values[5] == 0.0
    south = values[:6]  # from the south pole to the equator
    assert (np.diff(south) <= 0).all() and south[0] == 1.0
    assert not REGISTRY[name].has_overlay and name not in compute_all(np.zeros((8, 8), np.float32))


def test_every_feature_is_finite_and_in_range_on_every_bundled_sample():
    for name in manifest():
        pixels = load_image(SAMPLES_DIR / name).pixels
        for feature_name, result in compute_all(pixels).items():
            assert np.isfinite(result.value) and 0 <= result.value <= 1, (name, feature_name, result.value)
            assert result.map.shape == pixels.shape[:2]


def test_compute_all_runs_a_shared_group_once(monkeypatch):
    from marsviz.features import _base

    calls = []

    def group(image):
        calls.append(1)
        return {"g_a": FeatureResult(0.1, np.zeros(image.shape[:2])), "g_b": FeatureResult(0.2, np.zeros(image.shape[:2]))}

    extra = {name: _base.Feature(name=name, label=name, function=lambda im, n=name: group(im)[n], version="1",
                                 measures="m", method="m", why="w", limits="l", group=group)
             for name in ("g_a", "g_b")}
    monkeypatch.setattr("marsviz.registry.REGISTRY", {**REGISTRY, **extra})
    values = compute_all(np.full((16, 16), 0.5, np.float32))
    assert values["g_a"].value == 0.1 and values["g_b"].value == 0.2 and len(calls) == 1


def test_feature_set_version_changes_with_a_feature_version(monkeypatch):
    import dataclasses

    before = feature_set_version()
    first = next(iter(REGISTRY))
    monkeypatch.setitem(REGISTRY, first, dataclasses.replace(REGISTRY[first], version="changed"))
    assert feature_set_version() != before


#: What each layer may load: a feature family knows the contract, not the registry above it; the contract and
#: the seed features load no trained family, and nothing loads a model file before a feature is computed.
LAYERS = {
    "marsviz.features._base": ("marsviz.registry", "marsviz.terrain", "marsviz.view"),
    "marsviz.features": ("marsviz.registry", "marsviz.terrain", "marsviz.view"),
    "marsviz.terrain.descriptors": ("marsviz.registry", "marsviz.terrain.features", "marsviz.view"),
    "marsviz.terrain.features": ("marsviz.registry", "marsviz.view"),
    "marsviz.view.feature": ("marsviz.registry", "marsviz.terrain.features"),
    "marsviz.view.train": ("marsviz.registry",),
}


@pytest.mark.parametrize("module", ["marsviz.view.model", "marsviz.view.train", "marsviz.view.feature",
                                    "marsviz.terrain.model", "marsviz.terrain.features", "marsviz.features",
                                    "marsviz.features._base", "marsviz.registry", "marsviz.scoring",
                                    "marsviz.train", "marsviz.evaluate"])
def test_every_module_imports_first_in_a_fresh_process_and_loads_nothing_above_it(module):
    import subprocess
    import sys

    probe = (f"import sys, {module}; print(sorted(m for m in sys.modules if m.startswith('marsviz'))); "
             "from marsviz.terrain import model; from marsviz.view import model as view; "
             "print(model._load_cached.cache_info().currsize, view._load_cached.cache_info().currsize)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    loaded, models = done.stdout.splitlines()
    for above in LAYERS.get(module, ()):
        assert not any(name == above or name.startswith(above + ".") for name in eval(loaded)), (module, above)
    assert models == "0 0"  # no model file is loaded at import


def test_every_public_exception_is_defined_in_the_one_tree():
    import importlib
    import inspect
    import pkgutil

    import marsviz
    from marsviz import errors

    elsewhere = []
    for info in pkgutil.walk_packages(marsviz.__path__, "marsviz."):
        if info.name in ("marsviz.__main__", "marsviz.errors"):
            continue
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if (inspect.isclass(value) and issubclass(value, Exception) and value.__module__ == info.name
                    and not name.startswith("_")):
                elsewhere.append(f"{info.name}.{name}")
    assert elsewhere == []
    assert all(issubclass(value, errors.MarsvizError) for value in vars(errors).values()
               if inspect.isclass(value) and issubclass(value, Exception) and value is not errors.MarsvizError)

"""The feature registry: one list drives the catalog columns, the app's choices and the Method page.

Every feature is a pure function ``f(image) -> FeatureResult`` over a float image in [0, 1]
(see :mod:`marsviz.features._base`).
"""

from __future__ import annotations

import hashlib

import numpy as np

from marsviz import config
from marsviz.decode import DECODE_VERSION
from marsviz.features._base import Feature, FeatureResult, check_image, luminance
from marsviz.features.colour import colour_variation
from marsviz.features.dark_spots import dark_spot_ratio
from marsviz.features.edges import edge_ratio
from marsviz.features.seed_group import seed_features
from marsviz.features.water_ice import water_ice_ratio

_FEATURES = [
    Feature(
        name="dark_spot_ratio", label="Dark spots", function=dark_spot_ratio, version="2",
        measures="The fraction of the frame that is markedly darker than the frame itself.",
        method="Luminance (Rec. 709) below 0.5 x the frame's median luminance (taken over every other pixel), "
               "at the analysis resolution.",
        why="Dark dunes, recurring slope lineae, slope streaks and defrosting spots are dark against brighter "
            "ground; some are linked to volatiles (water or CO2 ice).",
        limits="Shadows, black space around a planet and no-data borders count as dark too. Relative to the "
               "frame, so a uniformly dark frame scores low.",
        overlay_colour=(40, 120, 255), stands_in_for=("landmark_score",), group=seed_features),
    Feature(
        name="edge_ratio", label="Edges", function=edge_ratio, version="2",
        measures="The fraction of the frame lying on sharp intensity boundaries.",
        method="Canny edge detector (Gaussian sigma 2 px, hysteresis 0.05/0.1 on the Sobel gradient of the "
               "0-1 luminance, per pixel of the analysis resolution), traced at half the analysis resolution.",
        why="Layering, fractures, crater rims, channels and polygonal ground produce dense edges; smooth dust "
            "plains produce few.",
        limits="Depends on resolution and noise: rover close-ups and stretched or noisy frames score high for "
               "reasons unrelated to geology; compression blocks add edges.",
        overlay_colour=(255, 230, 0), stands_in_for=("landmark_score",), group=seed_features),
    Feature(
        name="colour_variation", label="Colour variation", function=colour_variation, version="2",
        measures="The fraction of a colour frame whose colour departs from the frame's dominant colour.",
        method="Opponent-colour chroma (R-G, (R+G)/2-B) distance from the frame's median chroma above 0.08. "
               "Grayscale frames (or RGB files with identical channels) score exactly 0.",
        why="Mars is uniformly red-brown; patches of other colour (grey basalt, white or bluish frost, "
            "hydrated minerals in enhanced colour) are worth a look.",
        limits="Only meaningful in colour; false-colour and enhanced-colour products exaggerate it; a grayscale "
               "frame scores 0 by construction, not because it is uniform.",
        overlay_colour=(255, 0, 200), colour_only=True, stands_in_for=("landmark_score",), group=seed_features),
    Feature(
        name="water_ice_ratio", label="Potential water/ice", function=water_ice_ratio, version="2",
        measures="The fraction of the frame that is bright, brighter than the frame, and not red.",
        method="Luminance at least 0.6 and at least 1.3 x the frame's median; in colour, red minus blue at "
               "most 0.02 (white to bluish). Grayscale frames are judged on brightness alone.",
        why="Frost, polar ice and freshly exposed ice in craters are bright and white to bluish against red dust.",
        limits="Bright rock, clouds, sky and overexposed areas qualify too; in grayscale it is a brightness "
               "test only. A candidate, never a detection.",
        overlay_colour=(0, 255, 255), stands_in_for=("ice_terrain_score",), group=seed_features),
]

# The trained terrain scores follow the seed four.  Imported here, not at the top, because
# marsviz.terrain builds its features from this package's contract (_base).
from marsviz.terrain.features import TERRAIN_FEATURES  # noqa: E402
from marsviz.view.feature import VIEW_FEATURE  # noqa: E402

_FEATURES += [*TERRAIN_FEATURES, VIEW_FEATURE]

#: Registered features by name, in display order.
REGISTRY: dict[str, Feature] = {feature.name: feature for feature in _FEATURES}


def register(feature: Feature) -> None:
    """Add `feature` to the registry (used by feature families defined outside this package)."""
    if feature.name in REGISTRY:
        raise ValueError(f"feature {feature.name!r} is already registered")
    REGISTRY[feature.name] = feature


def feature_names() -> list[str]:
    """Names of the registered features, in display order."""
    return list(REGISTRY)


#: Settings that change feature values (the analysis resolution, the trained scores' tile size): values
#: stored under other settings are recomputed, so one catalog never mixes values computed two ways.
VALUE_SETTINGS = ("analysis_max_side", "terrain_tile_side")


#: What the catalog stores per image beside the feature values, with SQL types: the view model's call
#: (``orbital``, ``surface``, ``hardware`` or ``other``; see :mod:`marsviz.view`) and its probability, found
#: by the ``terrain_view_score`` feature (its :attr:`FeatureResult.detail`).  Not features: no value to
#: weigh, but what the ranking is read and filtered by.
ANNOTATIONS = {"view": "TEXT", "view_confidence": "REAL"}


def feature_set_version() -> str:
    """A short hash of what the stored values depend on; values stored under another one are recomputed.

    That is every feature's name and version (the trained ones' include their model files' fingerprints), the
    decoder's version (:data:`marsviz.decode.DECODE_VERSION`) and the settings in :data:`VALUE_SETTINGS`.
    """
    parts = [f"{f.name}={f.version}" for f in REGISTRY.values()]
    parts += [f"decode={DECODE_VERSION}", *(f"{name}={config.get(name)}" for name in VALUE_SETTINGS)]
    return hashlib.sha256(";".join(parts).encode()).hexdigest()[:12]


def compute_all(image: np.ndarray, names=None) -> dict[str, FeatureResult]:
    """Compute every registered feature (or those in `names`) on `image`, running each shared group step once.

    Parameters
    ----------
    image : ndarray
        float image in [0, 1], (H, W) or (H, W, 3).
    names : collection of str, optional
        Registered feature names to compute; default all.

    Returns
    -------
    dict of str to FeatureResult
        In registry order.
    """
    check_image(image)
    wanted = [name for name in REGISTRY if names is None or name in names]
    results: dict[str, FeatureResult] = {}
    done_groups = set()
    for name in wanted:
        feature = REGISTRY[name]
        if name in results:
            continue
        if feature.group is not None and feature.group not in done_groups:
            done_groups.add(feature.group)
            results.update(feature.group(image))
        if name not in results:
            results[name] = feature.function(image)
    return {name: results[name] for name in wanted}


def compute_values(image: np.ndarray, names=None) -> dict[str, float | str | None]:
    """What the catalog stores of an image: every feature's value (or those in `names`, as
    :func:`compute_all`) and its :data:`ANNOTATIONS` (from the features' details; None where no computed
    feature gives them)."""
    results = compute_all(image, names)
    annotations = dict.fromkeys(ANNOTATIONS)
    for result in results.values():
        annotations.update({k: v for k, v in (result.detail or {}).items() if k in ANNOTATIONS})
    return {**{name: result.value for name, result in results.items()}, **annotations}


__all__ = ["Feature", "FeatureResult", "REGISTRY", "register", "feature_names", "feature_set_version",
           "compute_all", "compute_values", "ANNOTATIONS", "check_image", "luminance", "dark_spot_ratio", "edge_ratio",
           "colour_variation", "water_ice_ratio"]

"""The seed's four features and the contract every feature meets.

Every feature is a pure function ``f(image) -> FeatureResult`` over a float image in [0, 1]
(see :mod:`marsviz.features._base`).  The registry of every feature, these four and the trained ones of
:mod:`marsviz.terrain` and :mod:`marsviz.view`, is :mod:`marsviz.registry`, above all three.
"""

from __future__ import annotations

from marsviz.features._base import Feature, FeatureResult, check_image, luminance
from marsviz.features.colour import colour_variation
from marsviz.features.dark_spots import dark_spot_ratio
from marsviz.features.edges import edge_ratio
from marsviz.features.seed_group import seed_features
from marsviz.features.water_ice import water_ice_ratio

#: The seed's four features, in display order.
SEED_FEATURES = [
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

__all__ = ["Feature", "FeatureResult", "SEED_FEATURES", "check_image", "luminance", "dark_spot_ratio", "edge_ratio",
           "colour_variation", "water_ice_ratio"]

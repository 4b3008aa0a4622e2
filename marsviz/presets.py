"""Composite presets: named sets of weights, each for one question a person asks of a catalog.

A preset is only a starting point for the sidebar's sliders and the command line's ``--preset``; the composite
itself (:func:`marsviz.scoring.composite_score`) knows nothing of presets.  Each preset's ranking is measured
by ``python -m marsviz train`` (held-out HiRISE crops) and ``train-view`` (later-sol Curiosity frames), and
the Method page shows those figures beside the preset's description.
"""

from __future__ import annotations

from dataclasses import dataclass

from marsviz.errors import MarsvizError


@dataclass(frozen=True)
class Preset:
    """A named set of composite weights.

    Attributes
    ----------
    name : str
        Key on the command line (``--preset``) and in evaluation files.
    label : str
        Name shown in the sidebar.
    weights : dict of str to float
        Weight per feature name; a feature not named has weight 0.
    question : str
        The question the preset answers, for the sidebar's help and the Method page.
    reasoning : str
        Why these weights, for the Method page.
    """

    name: str
    label: str
    weights: dict[str, float]
    question: str
    reasoning: str

    def weight_of(self, feature_name: str) -> float:
        """The preset's weight of `feature_name` (0 when it is not named)."""
        return float(self.weights.get(feature_name, 0.0))


_SEED_FOUR = ("dark_spot_ratio", "edge_ratio", "colour_variation", "water_ice_ratio")

_APPEARANCE_OF_ICE = {"ice_terrain_score": 1.0, "water_ice_ratio": 1.0, "terrain_view_score": 1.0}
_APPEARANCE_REASONING = (
    "The trained ice terrain score is the validated evidence where it applies (orbital views). Elsewhere the "
    "seed's bright, not-red candidate fraction stands in for it; on orbital views it does not count, because "
    "there it ranks ice terrain below the rest. The probability that the frame shows Mars terrain gates both and "
    "counts as much as they do, so hardware, calibration targets, maps and globes fall to the bottom, and plain "
    "ground still ranks above them.")

_PRESETS = [
    Preset(
        name="water_and_ice", label="Water and ice",
        weights={**_APPEARANCE_OF_ICE, "south_polar_ice_region": 1.0, "ground_ice_band": 0.5},
        question="Which images most likely show ice terrain, or water/ice candidates, on Mars ground, given "
                 "where on Mars they are?",
        reasoning=_APPEARANCE_REASONING + " Where the image's place is known, it counts too: the south polar "
                  "CO2-ice region as much as the ice terrain score (every known spider and swiss cheese landform "
                  "is there), the ground-ice band half as much (ice lies under the ground there, rarely in "
                  "sight). Both were weighed from what is known of Mars, before any measurement. Like the other "
                  "features they are gated by the probability that the frame shows terrain, so a rover's "
                  "hardware is not lifted by where the rover is. An image of unknown place gets no context "
                  "term; \"Appearance only\" ranks by the pixels alone."),
    Preset(
        name="appearance_only", label="Appearance only",
        weights=dict(_APPEARANCE_OF_ICE),
        question="Which images look most like ice terrain, or water/ice candidates, on Mars ground, whatever "
                 "their place?",
        reasoning=_APPEARANCE_REASONING + " The same as \"Water and ice\" without the place: for images whose "
                  "place is unknown or wrong, or to find ice landforms where they are not expected."),
    Preset(
        name="unusual_terrain", label="Unusual terrain",
        weights={"landmark_score": 1.0, "dark_spot_ratio": 0.3, "edge_ratio": 0.3, "colour_variation": 0.3,
                 "terrain_view_score": 1.0},
        question="Which images show terrain that scientists would label (craters, dunes, slope streaks, ice "
                 "terrain) or that stands out in darkness, edges or colour?",
        reasoning="The trained landmark score is the validated evidence on orbital views; elsewhere dark spots, "
                  "edges and colour variation stand in for it, 0.3 each, together about its weight. Gated by "
                  "the probability that the frame shows Mars terrain, which counts as much as the evidence."),
    Preset(
        name="seed", label="Seed method",
        weights=dict.fromkeys(_SEED_FOUR, 1.0),
        question="How did the original seed method rank the catalog?",
        reasoning="The seed's four measurements with equal weights, nothing trained: the mean of dark spots, "
                  "edges, colour variation and potential water/ice on every image, as the seed computed its "
                  "composite. Kept as the baseline the trained presets are measured against."),
]

#: The presets by name, in display order.
PRESETS: dict[str, Preset] = {preset.name: preset for preset in _PRESETS}
#: The preset the app and the command line start from.
DEFAULT_PRESET = "water_and_ice"


def preset(name: str) -> Preset:
    """The preset called `name`.

    Raises
    ------
    MarsvizError
        If there is no such preset; the message lists the ones there are.
    """
    try:
        return PRESETS[name]
    except KeyError:
        raise MarsvizError(f"no preset {name!r}; choose one of: {', '.join(PRESETS)}") from None


def preset_weights(name: str, feature_names) -> dict[str, float]:
    """Weights of preset `name` for every feature in `feature_names` (0 for those it does not name).

    Raises
    ------
    MarsvizError
        If there is no such preset, or it names a feature not in `feature_names`.
    """
    chosen = preset(name)
    feature_names = list(feature_names)
    unknown = sorted(set(chosen.weights) - set(feature_names))
    if unknown:
        raise MarsvizError(f"preset {name!r} names unknown features: {', '.join(unknown)}")
    return {feature: chosen.weight_of(feature) for feature in feature_names}

"""One image's report: everything the viewer shows of an image, built in one place.

The viewer lays a report out; it decides nothing.  A report is built from plain values: the image's catalog
row, its features' results (one analysis pass: :func:`marsviz.registry.compute_all`, whose terrain results
carry their explanations), the composite's weights and the robust z-scores of the whole catalog (for outlier
reasons and neighbours).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from marsviz import scoring
from marsviz.features import FeatureResult
from marsviz.overlays import render_overlays
from marsviz.registry import REGISTRY, appearance_names, context_names
from marsviz.terrain.model import SCORES as TERRAIN_SCORES

#: How many nearest neighbours a report lists.
NEIGHBOURS = 6


@dataclass(frozen=True)
class FeatureLine:
    """One feature of one image, as the viewer's table shows it.

    Attributes
    ----------
    name, label : str
        The registered feature and its label.
    value : float or None
        Its value on this image; None where it does not apply (`not_applied` says why) or is missing.
    not_applied : str or None
        Why it does not apply, in a word or two ("grayscale", "hardware view"); None where it applies.
    weight : float
        Its weight in the composite.
    adds : float or None
        Score points it adds to the composite (the counted lines sum to the score); None where it does not count.
    replaced_by : str or None
        For a weighted stand-in left out here: the label of the trained score that counts instead.
    """

    name: str
    label: str
    value: float | None
    not_applied: str | None
    weight: float
    adds: float | None
    replaced_by: str | None


@dataclass(frozen=True)
class ImageReport:
    """What the viewer shows of one image.

    Attributes
    ----------
    row : dict
        The image's catalog row.
    pixels : ndarray
        The image at analysis resolution, float in [0, 1].
    results : dict of str to FeatureResult
        Every feature's result on `pixels` (value, map, detail).
    features : list of FeatureLine
        One line per registered feature, in registry order.
    notes : list of str
        Sentences on features left out of this image's composite and why.
    outlier_reasons : list of (str, float)
        Features the image is unusual in, with their robust z-scores, strongest first.
    neighbours : list of (int, float)
        Catalog ids of the nearest images in feature space and their distances, closest first.
    explanations : dict of str to dict
        Why each trained terrain score validated on this image's view got its value
        (:func:`marsviz.terrain.features.explain`).
    """

    row: dict
    pixels: np.ndarray
    results: dict[str, FeatureResult]
    features: list[FeatureLine]
    notes: list[str]
    outlier_reasons: list[tuple[str, float]]
    neighbours: list[tuple[int, float]]
    explanations: dict[str, dict]

    def overlay(self, names: list[str], display: np.ndarray | None = None,
                part: tuple[tuple[int, int], slice, slice] | None = None) -> np.ndarray:
        """The image with the maps of the features in `names` drawn over it, as (H, W, 3) uint8.

        `display` is the same image decoded larger for the screen (uint8, or float in [0, 1]); the
        maps are then drawn at its resolution (:func:`marsviz.overlays.render_overlays`).  Default:
        the analysed pixels.  `part`: `display` is a part of such an image (a zoomed view), as
        ``render_overlays`` takes it.
        """
        return render_overlays(self.pixels if display is None else display, self.results, list(names), part=part)


def image_report(row: dict, pixels: np.ndarray, results: dict[str, FeatureResult], weights: dict[str, float],
                 ids: np.ndarray, z: np.ndarray, neighbours: int = NEIGHBOURS,
                 points: np.ndarray | None = None) -> ImageReport:
    """Build the report of one catalog image.

    Parameters
    ----------
    row : dict
        The image's catalog row (:meth:`marsviz.catalog.Catalog.get`).
    pixels : ndarray
        The image at analysis resolution.
    results : dict of str to FeatureResult
        :func:`marsviz.registry.compute_all` of `pixels`, with the settings the catalog's values were computed with.
    weights : dict of str to float
        The composite's weights.
    ids : ndarray
        (n,) catalog ids, the rows of `z`.
    z : ndarray
        (n, k) robust z-scores of the catalog's applicable values, one column per registered feature
        (:func:`marsviz.scoring.robust_z` of :func:`marsviz.scoring.applicable_values`).
    neighbours : int, optional
        How many nearest neighbours to list.
    points : ndarray, optional
        :func:`marsviz.scoring.neighbour_space` of `z`, if it is at hand (made from `z` otherwise).

    Returns
    -------
    ImageReport
    """
    reasons, near = outlier_context(int(row["id"]), ids, z, neighbours, points)
    return ImageReport(row=row, pixels=pixels, results=results, features=feature_lines(row, weights),
                       notes=left_out_notes(row, weights), outlier_reasons=reasons, neighbours=near,
                       explanations=terrain_explanations(row, results))


def _usable(row: dict) -> pd.Series:
    """The image's feature values, NaN where a feature does not apply to it (as the ranking has them)."""
    return scoring.applicable_values(pd.DataFrame([row])).iloc[0]


def _replaced(usable: pd.Series, weights: dict[str, float]) -> dict[str, str]:
    """Weighted stand-ins the composite leaves out of this image, each with the label of the score counting instead."""
    stand_ins = scoring.stand_in_map()
    counted = scoring.counted_values(usable.to_frame().T, weights, stand_ins).iloc[0]
    return {name: next(REGISTRY[p].label for p in principals if weights.get(p) and pd.notna(usable.get(p)))
            for name, principals in stand_ins.items()
            if weights.get(name) and pd.notna(usable.get(name)) and pd.isna(counted[name])}


def feature_lines(row: dict, weights: dict[str, float]) -> list[FeatureLine]:
    """One :class:`FeatureLine` per registered feature of the image in catalog row `row`, under `weights`.

    Examples
    --------
    >>> row = {"id": 1, "is_color": False, "view": "orbital", **{name: 0.5 for name in REGISTRY}}
    >>> colour = next(line for line in feature_lines(row, {}) if line.name == "colour_variation")
    >>> colour.value, colour.not_applied
    (None, 'grayscale')
    """
    usable = _usable(row)
    adds = scoring.contributions(scoring.counted_context(usable.to_frame().T).iloc[0], weights,
                                 scoring.gate_names(), scoring.stand_in_map())
    replaced = _replaced(usable, weights)
    lines = []
    for name, feature in REGISTRY.items():
        value = usable.get(name)
        lines.append(FeatureLine(
            name=name, label=feature.label, value=None if pd.isna(value) else float(value),
            not_applied=_not_applied(feature, row), weight=float(weights.get(name, 0.0)),
            adds=adds.get(name), replaced_by=replaced.get(name)))
    return lines


def score_parts(lines: list[FeatureLine]) -> str:
    """How much of the composite the pixels give and how much the place, in one line; empty when no context
    feature has a weight.

    Examples
    --------
    >>> lines = [FeatureLine("ice_terrain_score", "Ice terrain (trained)", 0.4, None, 1.0, 0.1, None),
    ...          FeatureLine("south_polar_ice_region", "South polar CO2-ice region", 1.0, None, 1.0, 0.25, None)]
    >>> score_parts(lines)
    'Of its score 0.350: appearance 0.100, place 0.250 (South polar CO2-ice region +0.250)'
    """
    context = [line for line in lines if REGISTRY[line.name].context and line.weight]
    if not context:
        return ""
    appearance = sum(line.adds or 0.0 for line in lines if not REGISTRY[line.name].context)
    place = sum(line.adds or 0.0 for line in context)
    each = ", ".join(f"{line.label} {line.adds or 0.0:+.3f}" for line in context if line.adds)
    return (f"Of its score {appearance + place:.3f}: appearance {appearance:.3f}, place {place:.3f}"
            + (f" ({each})" if each else ""))


def _not_applied(feature, row: dict) -> str | None:
    if feature.context and pd.isna(row.get(feature.name)):
        return "place not known"
    is_color, view = bool(row["is_color"]), row.get("view")
    if feature.applies_to(is_color, view):
        return None
    return "grayscale" if feature.applies_to(True, view) else f"{view} view"


def left_out_notes(row: dict, weights: dict[str, float]) -> list[str]:
    """Sentences on the features the composite leaves out of this image, and why (replaced, or not valid here)."""
    notes = [f"{REGISTRY[name].label} is replaced here: it stands in for {instead} only where that score does "
             "not apply, and on this image it does." for name, instead in _replaced(_usable(row), weights).items()]
    view = row.get("view")
    notes += [feature.why_not_applied(bool(row["is_color"]), view) for feature in REGISTRY.values()
              if feature.not_validated_on(view)]
    if any(weights.get(name) and pd.isna(row.get(name)) for name in context_names()):
        notes.append("This image's place is not known (no label, MRO product id or landing site names it), so "
                     "the context features add nothing to its score.")
    return notes


def outlier_context(image_id: int, ids: np.ndarray, z: np.ndarray, neighbours: int = NEIGHBOURS,
                    points: np.ndarray | None = None) -> tuple[list[tuple[str, float]], list[tuple[int, float]]]:
    """What makes an image unusual, and its nearest neighbours, in the catalog's robust z-scores.

    Parameters
    ----------
    image_id : int
        The image's catalog id.
    ids : ndarray
        (n,) catalog ids, the rows of `z`.
    z : ndarray
        (n, k) robust z-scores, one column per appearance feature, in registry order
        (:func:`marsviz.registry.appearance_names`).
    neighbours : int, optional
        How many neighbours.
    points : ndarray, optional
        :func:`marsviz.scoring.neighbour_space` of `z` (made from `z` if not given).

    Returns
    -------
    reasons : list of (str, float)
        Feature names with |z| above :data:`marsviz.scoring.OUTLIER_THRESHOLD` and their z, strongest first.
    neighbours : list of (int, float)
        Catalog ids of the nearest images and their distances, closest first; empty if `image_id` is not in `ids`.

    Examples
    --------
    >>> ids = np.array([7, 8, 9])
    >>> z = np.zeros((3, len(appearance_names()))); z[0, 0] = 9.0; z[2, 0] = 1.0
    >>> reasons, near = outlier_context(7, ids, z, neighbours=2)
    >>> reasons[0][0] == next(iter(REGISTRY)), [image for image, _ in near]
    (True, [9, 8])
    """
    index = np.flatnonzero(np.asarray(ids) == image_id)
    if not len(index):
        return [], []
    z_row, names = z[index[0]], appearance_names()
    reasons = [(name, float(z_row[names.index(name)])) for name in scoring.outlier_reasons(z_row, names)]
    points = scoring.neighbour_space(z) if points is None else points
    near = [(int(ids[i]), distance) for i, distance in scoring.nearest_neighbours(points, int(index[0]), neighbours)]
    return reasons, near


def terrain_explanations(row: dict, results: dict[str, FeatureResult]) -> dict[str, dict]:
    """The explanations of the trained terrain scores that apply to this image's view, from their results' detail."""
    return {name: results[name].detail["explanation"] for name in TERRAIN_SCORES
            if name in results and not REGISTRY[name].not_validated_on(row.get("view"))
            and (results[name].detail or {}).get("explanation") is not None}

"""Composite score, robust outlier score, 2-D projection and nearest neighbours over feature vectors.

All functions take a plain (n_images, n_features) array or a catalog frame and return new arrays;
nothing here reads files.
"""

from __future__ import annotations

import warnings
from typing import Collection

import numpy as np
import pandas as pd

from marsviz.registry import REGISTRY, appearance_names, context_names
from marsviz.presets import DEFAULT_PRESET, preset_weights

#: Modified z-score above which an image is called an outlier (Iglewicz and Hoaglin, 1993).
OUTLIER_THRESHOLD = 3.5
#: Scale turning a median absolute deviation into a standard deviation for normal data.
MAD_TO_SD = 1.4826
#: Scale turning a mean absolute deviation into a standard deviation.
MEAN_AD_TO_SD = 1.2533
#: Gate value at and above which a frame counts as surely showing what the gated features measure.  Fixed
#: before measuring: a calibrated 0.9 is a one-in-ten chance of being wrong, and finer differences above it
#: (0.996 against 0.999 on orbital crops) carry no evidence about the features the gate weighs.
GATE_CERTAINTY = 0.9


def default_weights() -> dict[str, float]:
    """Each registered feature's weight in the default preset (:data:`marsviz.presets.DEFAULT_PRESET`)."""
    return preset_weights(DEFAULT_PRESET, REGISTRY)


def weights_of_preset(name: str) -> dict[str, float]:
    """Each registered feature's weight in preset `name` (see :mod:`marsviz.presets`)."""
    return preset_weights(name, REGISTRY)


def gate_names() -> list[str]:
    """The registered features that gate the others in the composite (:attr:`Feature.gates`)."""
    return [name for name, feature in REGISTRY.items() if feature.gates]


def stand_in_map() -> dict[str, tuple[str, ...]]:
    """Registered features that stand in for trained scores (:attr:`Feature.stands_in_for`), by name."""
    return {name: feature.stands_in_for for name, feature in REGISTRY.items() if feature.stands_in_for}


def counted_values(values: pd.DataFrame, weights: dict[str, float],
                   stand_ins: dict[str, Collection[str]] | None = None) -> pd.DataFrame:
    """`values` with each stand-in left out (NaN) of the images where a score it stands in for counts.

    Parameters
    ----------
    values : DataFrame
        Feature columns, NaN where a feature does not apply (:func:`applicable_values`).
    weights : dict of str to float
        The composite's weights: a score with weight 0 does not count, so its stand-ins count everywhere.
    stand_ins : dict of str to collection of str, optional
        Feature name to the scores it stands in for (:func:`stand_in_map`).
    """
    out = values.copy()
    for name, principals in (stand_ins or {}).items():
        counting = [p for p in principals if weights.get(p, 0) > 0 and p in values]
        if name in values and counting:
            out.loc[values[counting].notna().any(axis=1), name] = np.nan
    return out


def composite_score(values: pd.DataFrame, weights: dict[str, float], gates: Collection[str] = (),
                    stand_ins: dict[str, Collection[str]] | None = None,
                    gate_certainty: float = GATE_CERTAINTY) -> pd.Series:
    """Weighted mean of the feature columns, every one but the gates multiplied by the gates first; in [0, 1].

    Parameters
    ----------
    values : DataFrame
        One column per feature named in `weights`, values in [0, 1].
    weights : dict of str to float
        Non-negative weights; features with weight 0 (or missing) do not count.  A missing feature
        value (NaN) drops out of that image's mean instead of counting as 0.
    gates : collection of str, optional
        Columns holding the probability that the image shows what the other features measure
        (:func:`gate_names`: Mars terrain).  A gate with a weight joins the mean like any feature, and
        multiplies every other feature's value before it does, so a feature counts only as far as the frame
        is likely to show terrain: a calibration target's bright pixels add almost nothing, while a frame of
        plain ground still scores its probability of being terrain.  A missing gate value multiplies by 1.
        Gate values are read as ``min(value / gate_certainty, 1)``: every frame at or above the certainty
        counts as surely terrain, so the gate sorts frames into terrain or not without reordering the sure ones.
    stand_ins : dict of str to collection of str, optional
        Columns that count only on images where none of the (weighted) scores they stand in for has a value
        (:func:`counted_values`): a plain measurement that a validated score supersedes where it applies.
    gate_certainty : float, optional
        Gate value in (0, 1] from which a frame counts as surely showing terrain (:data:`GATE_CERTAINTY`).

    Returns
    -------
    Series
        The score per row; NaN where no weighted feature has a value, or all weights are 0.
    """
    if any(w < 0 for w in weights.values()):
        raise ValueError("weights must not be negative")
    return _weighted_parts(values, weights, gates, stand_ins, gate_certainty).sum(axis=1, min_count=1)


def _weighted_parts(values: pd.DataFrame, weights: dict[str, float], gates: Collection[str],
                    stand_ins: dict[str, Collection[str]] | None, gate_certainty: float) -> pd.DataFrame:
    """Each counted feature's share of every row's composite (NaN where it does not count); rows sum to it."""
    if not 0.0 < gate_certainty <= 1.0:
        raise ValueError(f"gate_certainty must be in (0, 1], not {gate_certainty!r}")
    names = [n for n, w in weights.items() if w > 0 and n in values]
    counted = counted_values(values[names].astype(float), weights, stand_ins)
    gate = np.ones(len(values))
    for name in names:
        if name in gates:
            counted[name] = np.clip(counted[name] / gate_certainty, 0.0, 1.0)
            gate *= np.nan_to_num(counted[name].to_numpy(), nan=1.0)
    w = np.array([weights[n] for n in names], dtype=float)
    matrix = counted.to_numpy()
    gated = np.array([n not in gates for n in names], dtype=bool)
    matrix = np.where(gated, matrix * gate[:, None], matrix)
    norm = (~np.isnan(matrix) * w).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        parts = matrix * w / norm[:, None]
    return pd.DataFrame(parts, index=values.index, columns=names)


def contributions(row: pd.Series, weights: dict[str, float], gates: Collection[str] = (),
                  stand_ins: dict[str, Collection[str]] | None = None,
                  gate_certainty: float = GATE_CERTAINTY) -> dict[str, float]:
    """How many score points each counted feature adds to one image's composite score (they sum to it).

    See :func:`composite_score`; a feature that does not count on this image (missing, weight 0, or a
    stand-in superseded here) gets no entry.
    """
    frame = pd.to_numeric(row, errors="coerce").to_frame().T
    parts = _weighted_parts(frame, weights, gates, stand_ins, gate_certainty).iloc[0]
    return {name: float(value) for name, value in parts.items() if pd.notna(value)}


def robust_z(matrix: np.ndarray) -> np.ndarray:
    """Robust z-scores per column: (x - median) / scale.

    The scale is the larger of 1.4826 x the median absolute deviation and 1.2533 x the mean absolute
    deviation (each equals the standard deviation for normal data).  The MAD alone collapses for
    features where most images score (nearly) the same, such as zero water/ice candidates, and would
    then call every image with any candidates an outlier.  A column with no spread gets z = 0.  NaN
    values (not applicable) stay NaN.
    """
    matrix = np.asarray(matrix, dtype=float)
    if matrix.size == 0:
        return matrix.copy()
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
        median = np.nanmedian(matrix, axis=0)
        deviation = np.abs(matrix - median)
        scale = np.fmax(np.nanmedian(deviation, axis=0) * MAD_TO_SD, np.nanmean(deviation, axis=0) * MEAN_AD_TO_SD)
    scale = np.nan_to_num(scale, nan=0.0)
    z = (matrix - median) / np.where(scale > 0, scale, 1.0)
    return np.where(scale > 0, z, np.where(np.isnan(matrix), np.nan, 0.0))


def outlier_scores(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Robust outlier score per image: the largest absolute modified z-score over its features.

    Returns
    -------
    score : ndarray
        (n,) scores; an image is an outlier when its score exceeds :data:`OUTLIER_THRESHOLD`.
    z : ndarray
        (n, k) modified z-scores, telling which features make an image an outlier.
    """
    z = robust_z(matrix)
    if z.size == 0:
        return np.zeros(len(z)), z
    with np.errstate(invalid="ignore"):
        score = np.nanmax(np.abs(np.nan_to_num(z, nan=0.0)), axis=1)
    return score, z


def outlier_reasons(z_row: np.ndarray, names: list[str]) -> list[str]:
    """Feature names whose |z| exceeds the threshold, strongest first."""
    order = np.argsort(-np.abs(np.nan_to_num(z_row)))
    return [names[i] for i in order if abs(np.nan_to_num(z_row[i])) > OUTLIER_THRESHOLD]


def projection_2d(matrix: np.ndarray) -> np.ndarray:
    """A rank-based map of every feature: the first two principal components of each feature's ranks.

    Each column is replaced by its images' ranks, scaled to fractions in [-0.5, 0.5] (missing values
    at 0, the middle), before the principal components are taken.  On ranks a few extreme images
    cannot squeeze all others into a sliver of the plot, as they do on raw or z-scored values; the
    outliers are found by the outlier score, not by this map.

    Parameters
    ----------
    matrix : ndarray
        (n, k) feature values, NaN where a feature does not apply.

    Returns
    -------
    ndarray
        (n, 2) coordinates; the sign of each axis is fixed so the layout does not flip between runs.
    """
    matrix = np.asarray(matrix, dtype=float)
    if len(matrix) < 2:
        return np.zeros((len(matrix), 2))
    ranks = pd.DataFrame(matrix).rank(method="average", pct=True).to_numpy() - 0.5
    centred = np.nan_to_num(ranks)
    centred = centred - centred.mean(axis=0)
    _, _, components = np.linalg.svd(centred, full_matrices=False)
    projected = centred @ components[:2].T
    if projected.shape[1] < 2:
        projected = np.column_stack([projected, np.zeros(len(projected))])
    signs = np.sign(projected[np.abs(projected).argmax(axis=0), range(2)])
    return projected * np.where(signs == 0, 1, signs)


#: Robust z-scores are clipped to this magnitude for distances, so one extreme feature does not swamp the rest.
NEIGHBOUR_CLIP = 10.0


def neighbour_space(z: np.ndarray) -> np.ndarray:
    """The points between which :func:`nearest_neighbours` measures distances.

    Parameters
    ----------
    z : ndarray
        (n, k) robust z-scores, as :func:`robust_z` returns them.

    Returns
    -------
    ndarray
        (n, k) float32: NaN (not applicable) as typical (0), values clipped to +-:data:`NEIGHBOUR_CLIP`.
        Made once per catalog, it halves the memory of float64 and spares each look-up a copy of the
        whole matrix.
    """
    return np.clip(np.nan_to_num(np.asarray(z, dtype=np.float32)), -NEIGHBOUR_CLIP, NEIGHBOUR_CLIP)


def nearest_neighbours(points: np.ndarray, index: int, count: int = 5) -> list[tuple[int, float]]:
    """Rows nearest to row `index` in robust-standardised feature space.

    Parameters
    ----------
    points : ndarray
        (n, k) points, as :func:`neighbour_space` makes them from the robust z-scores.
    index : int
        The row whose neighbours are wanted.
    count : int, optional
        How many neighbours.

    Returns
    -------
    list of (row, distance)
        Closest first (rows at equal distance in row order), excluding `index` itself; Euclidean
        distances in units of robust standard deviations.
    """
    difference = points - points[index]
    squared = np.einsum("ij,ij->i", difference, difference, dtype=np.float64)
    squared[index] = np.inf
    count = min(count, len(squared) - 1)
    if count <= 0:
        return []
    # The count-th smallest distance bounds the answer: only rows within it are sorted, not all n.
    bound = np.partition(squared, count - 1)[count - 1]
    within = np.flatnonzero(squared <= bound)
    order = within[np.argsort(squared[within], kind="stable")][:count]
    return [(int(i), float(np.sqrt(squared[i]))) for i in order if np.isfinite(squared[i])]


def applicable_values(frame: pd.DataFrame) -> pd.DataFrame:
    """The feature columns of a catalog frame, NaN where a feature does not apply to the image.

    Colour-only features do not apply to grayscale images: a grayscale image has no colour variation to
    measure, and counting its 0 as a measurement would rank every grayscale image below every colour one.
    Trained scores do not apply to images of a view they were not validated on (``validated_views``; the
    ``view`` column, where present and known): a rover frame's ice terrain score means nothing.
    """
    names = [n for n in REGISTRY if n in frame]
    values = frame[names].astype(float)
    if "is_color" in frame:
        grayscale = ~frame["is_color"].astype(bool)
        for name in names:
            if not REGISTRY[name].applies_to(is_color=False):
                values.loc[grayscale, name] = np.nan
    if "view" in frame:
        views = frame["view"]
        known = views.dropna().unique()
        for name in names:
            outside = [view for view in known if REGISTRY[name].not_validated_on(view)]
            if outside:
                values.loc[views.isin(outside), name] = np.nan
    return values


def appearance_values(values: pd.DataFrame) -> pd.DataFrame:
    """The appearance feature columns of :func:`applicable_values`: what the outlier score, the projection and
    the neighbours compare (an image is not unusual for being polar)."""
    return values[[name for name in appearance_names() if name in values]]


def counted_context(values: pd.DataFrame) -> pd.DataFrame:
    """`values` with each context feature 0 where the place is unknown: such an image gets no context term
    (nothing added), and is not lifted above located images by leaving the term out of its mean."""
    context = [name for name in context_names() if name in values]
    return values.fillna(dict.fromkeys(context, 0.0)) if context else values


def app_composite(frame: pd.DataFrame, weights: dict[str, float], values: pd.DataFrame | None = None) -> pd.Series:
    """The composite score of every image of a catalog frame, as the app and the command line rank them.

    The registry's rules applied: features that do not apply drop out (:func:`applicable_values`), an
    unknown place adds no context term (:func:`counted_context`), the terrain-view probability gates the rest
    (:func:`gate_names`) and stand-ins give way to the trained scores they stand in for (:func:`stand_in_map`).
    `values`: :func:`applicable_values` of `frame`, if already known.
    """
    values = applicable_values(frame) if values is None else values
    return composite_score(counted_context(values), weights, gate_names(), stand_in_map())


def rank_order(frame: pd.DataFrame, weights: dict[str, float] | None = None) -> np.ndarray:
    """Positions of `frame`'s rows in ranking order under `weights` (default :func:`default_weights`): best
    score first, ties by id, images without a score last.

    ``frame.take(rank_order(frame))`` is a frame that :func:`ranked` then ranks without copying it.
    """
    composite = np.asarray(app_composite(frame, weights or default_weights()), dtype=float)
    return _order_of(frame, composite)


def _order_of(frame: pd.DataFrame, composite: np.ndarray) -> np.ndarray:
    return np.lexsort((frame["id"].to_numpy(), -np.nan_to_num(composite, nan=-np.inf), np.isnan(composite)))


def ranked(frame: pd.DataFrame, weights: dict[str, float] | None = None) -> pd.DataFrame:
    """The catalog frame with `score`, `outlier_score`, `outlier`, `rank` columns, best score first.

    Parameters
    ----------
    frame : DataFrame
        As :meth:`marsviz.catalog.Catalog.frame` returns it.  A frame already in this ranking's order
        (:func:`rank_order`) is not copied: the result shares its columns, so change neither in place.
    weights : dict, optional
        Composite weights; default :func:`default_weights`.
    """
    weights = weights or default_weights()
    values = applicable_values(frame)
    composite = np.asarray(app_composite(frame, weights, values), dtype=float)
    outlier_score, _ = outlier_scores(appearance_values(values).to_numpy(dtype=float))
    order = _order_of(frame, composite)
    if np.array_equal(order, np.arange(len(order))):
        out = frame.copy(deep=False)
    else:
        out = frame.take(order)
    out.index = pd.RangeIndex(len(out))
    out["score"] = composite[order]
    out["outlier_score"] = outlier_score[order]
    out["outlier"] = out["outlier_score"] > OUTLIER_THRESHOLD
    out["rank"] = np.arange(1, len(out) + 1)
    return out

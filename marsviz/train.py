"""Train the terrain model from labeled crops, validated on source images it never saw.

``python -m marsviz train SET [SET ...]`` (a SET is a folder holding ``labels.csv`` and ``images/``, or a
labels CSV followed by its image folder) rebuilds the shipped ``marsviz/terrain/model.json`` and its
``evaluation.json`` (what the Method page shows):

1. every crop is decoded and described exactly as the features do at run time, and so are its training
   copies: 3 rotations and mirror images (:func:`dihedral_copies`), the crop shrunk to half its size, and the
   tiles of the crop enlarged to twice its size (:data:`SCALES`), so that the scores hold at other scales;
2. leave-one-ice-source-out cross-validation (:func:`ice_source_folds`): each fold holds out one source image
   with ice terrain and a share of the other source images, across every set given; a crop is never split
   from its source image; held-out crops are scored as they are, shrunk and enlarged, by a model that saw
   none of their source images;
3. each score is calibrated by a Platt map fitted on held-out scores (cross-fitted: a fold's scores are
   calibrated by a map fitted on the other folds), so that it reads as a probability; the evaluation gives
   ROC AUC and average precision with bootstrap intervals over source images, per ice source image, per
   scale, and the reliability of the probabilities;
4. the final model is fitted on everything and carries the map fitted on all held-out scores.

Same data and seed, same files.  Needs scikit-learn (only here; loading the model does not).
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from marsviz import config
from marsviz.config import AnalysisSettings
from marsviz.errors import LabelsError, MarsvizError
from marsviz.evaluate import (FIGURE_DIGITS, ICE_LABELS, TARGETS, average_precision, context_of_names,
                              evaluate_scores, figure, load_labels, preset_evaluation, roc_auc)
from marsviz.records import json_records
from marsviz.runner import LocalRunner
from marsviz.terrain.model import (HAND_MADE, ICE_CLASS, OTHER_CLASS, SCORES, SHIPPED_MODEL,
                                   TILE_DESCRIPTOR_NAMES, Head, TerrainModel, calibrated)

#: Model class of each label of the HiRISE set (impact ejecta is merged with craters).
CLASS_OF_LABEL = {"other": OTHER_CLASS, "crater": "crater", "impact_ejecta": "crater", "dark_dune": "dark_dune",
                  "bright_dune": "bright_dune", "slope_streak": "slope_streak", "swiss_cheese": ICE_CLASS,
                  "spider": ICE_CLASS}
#: When a crop has several labels, the class listed first here wins (landmarks before "other").
CLASS_PRIORITY = [ICE_CLASS, "slope_streak", "bright_dune", "dark_dune", "crater", OTHER_CLASS]
#: Inverse L2 strength, per crop, of the logistic regression on the hand-made descriptors (one of the two ice
#: heads): the value the grouped cross-validation of the first labeled set chose.
C = 3.0
#: Inverse L2 strength, per crop, of the logistic regressions on all the descriptors (the other ice head and the
#: landmark head): the better of 0.1 and 1 on these folds (docs/evaluation.md says so), stronger than C because
#: the pretrained channels are many and correlated.
C_ALL = 0.1
#: Hidden ReLU units of a network head (the view model's).
HIDDEN_UNITS = 64
#: Bootstrap resamples of source images for the intervals.
RESAMPLES = 1000
#: Rotated and mirrored copies of each crop trained on (the crop itself first; the descriptors are nearly
#: invariant to these, so four of the eight carry what the eight would).
DIHEDRAL_COPIES = 4
#: Scales at which each crop is also described, as the features describe an image of that size.
SCALES = (0.5, 2.0)
#: Bins of the reliability table (equal width over [0, 1]).
RELIABILITY_BINS = 10
#: What crops are decoded and described at: the documented defaults, never the environment's, so the same data
#: and seed give the same model on any machine (the shipped model is what the app applies at its defaults).
TRAINING_SETTINGS = AnalysisSettings()


def crop_class(labels: tuple[str, ...]) -> str:
    """The model class of a crop from its labels (see :data:`CLASS_PRIORITY`).

    Examples
    --------
    >>> crop_class(("crater", "other"))
    'crater'
    """
    classes = {CLASS_OF_LABEL.get(label, "crater" if label != OTHER_CLASS else OTHER_CLASS) for label in labels}
    return next(c for c in CLASS_PRIORITY if c in classes)


def dihedral_copies(image: np.ndarray) -> list[np.ndarray]:
    """The 8 rotations by multiples of 90 degrees and mirror images of an image, the image itself first.

    Orbital terrain has no up: a crater or a dune field rotated or mirrored is still one.

    Examples
    --------
    >>> copies = dihedral_copies(np.arange(6).reshape(2, 3))
    >>> len(copies), copies[0].tolist(), copies[1].tolist()
    (8, [[0, 1, 2], [3, 4, 5]], [[2, 5], [1, 4], [0, 3]])
    """
    mirrored = image[:, ::-1]
    return [np.ascontiguousarray(np.rot90(base, k)) for base in (image, mirrored) for k in range(4)]


def rescaled(image: np.ndarray, factor: float) -> np.ndarray:
    """`image` resized by `factor` with a Lanczos filter, as a camera or an archive would give it.

    Examples
    --------
    >>> rescaled(np.zeros((10, 6), np.float32), 0.5).shape
    (5, 3)
    """
    height, width = image.shape[:2]
    return resized(image, (max(1, round(height * factor)), max(1, round(width * factor))))


def resized(image: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """`image` resized to `shape` (height, width) with a Lanczos filter, each channel apart, clipped to [0, 1].

    Examples
    --------
    >>> resized(np.zeros((10, 6, 3), np.float32), (4, 8)).shape
    (4, 8, 3)
    """
    from PIL import Image

    planes = image if image.ndim == 3 else image[..., None]
    out = [np.asarray(Image.fromarray(np.ascontiguousarray(planes[..., k], dtype=np.float32), mode="F")
                      .resize((shape[1], shape[0]), Image.LANCZOS)) for k in range(planes.shape[2])]
    return np.clip(np.stack(out, axis=2) if image.ndim == 3 else out[0], 0.0, 1.0).astype(np.float32)


@dataclass(frozen=True)
class CropDescriptors:
    """Descriptors of labeled crops, as they are and as trained on, and the untrained features' values.

    Attributes
    ----------
    as_is : ndarray
        (N, D): each crop as it is (mean over its scored tiles; a crop of the training size is one tile).
    training : ndarray
        (N, K, D): every copy trained on; copy 0 is the crop as it is.
    scaled : dict of float to list of ndarray
        Per factor of :data:`SCALES`, per crop, the (T, D) descriptors of the rescaled crop's scored tiles.
    untrained : dict of float to DataFrame
        Per scale (1.0 and each of :data:`SCALES`), the registry's other (untrained) features on each crop, one
        column each, with the columns ``view``, ``view_confidence`` and ``is_color`` the composite needs.
    """

    as_is: np.ndarray
    training: np.ndarray
    scaled: dict
    untrained: dict


def _scored_tiles(image: np.ndarray) -> np.ndarray:
    from marsviz.terrain.features import image_descriptors

    tiles = image_descriptors(image, TRAINING_SETTINGS.tile_side)
    return tiles.descriptors[tiles.valid] if tiles.valid.any() else tiles.descriptors


def _untrained_features() -> dict:
    """The registry's appearance features this trainer does not fit: the seed's measurements and the view
    model's score (the context features come from the crops' names, not their pixels)."""
    from marsviz.registry import REGISTRY

    return {name: f for name, f in REGISTRY.items() if name not in SCORES and not f.context}


def _untrained_values(pixels: np.ndarray) -> dict[str, float | str | bool | None]:
    """The untrained features' values on `pixels`, with what the composite needs beside them (view, colour)."""
    from marsviz.registry import compute_values

    return {"is_color": pixels.ndim == 3, **compute_values(pixels, list(_untrained_features()), TRAINING_SETTINGS)}


def training_pixels(path: str | Path) -> np.ndarray:
    """The pixels of an image file, decoded as training decodes every file (at :data:`TRAINING_SETTINGS`)."""
    from marsviz.decode import load_image

    return load_image(path, max_side=TRAINING_SETTINGS.max_side).pixels


def _describe_one(path: Path) -> tuple[np.ndarray, np.ndarray, list[np.ndarray], dict[float, dict]]:
    pixels = training_pixels(path)
    copies = [_scored_tiles(copy).mean(axis=0) for copy in dihedral_copies(pixels)[:DIHEDRAL_COPIES]]
    shrunk_and_enlarged = [rescaled(pixels, factor) for factor in SCALES]
    scaled = [_scored_tiles(image) for image in shrunk_and_enlarged]
    untrained = {1.0: _untrained_values(pixels)}
    untrained.update({factor: _untrained_values(image) for factor, image in zip(SCALES, shrunk_and_enlarged)})
    return copies[0], np.vstack(copies + scaled), scaled, untrained


def describe_crops(labels: pd.DataFrame, workers: int = 1,
                   progress: Callable[[int, int], None] | None = None) -> CropDescriptors:
    """Decode every labeled crop once: describe it and its training copies as the features do, and compute the
    untrained features on it.

    Parameters
    ----------
    labels : DataFrame
        As returned by :func:`load_sets`, with a ``path`` column.
    workers : int, optional
        Processes describing crops (the result does not depend on it).
    progress : callable, optional
        ``progress(done, total)`` after each crop.

    Returns
    -------
    CropDescriptors
        Training copies: :data:`DIHEDRAL_COPIES` rotated and mirrored copies, then the tiles of the crop at
        each of :data:`SCALES`; crops whose copies have fewer tiles repeat their last row, so every crop has
        the same number of rows.
    """
    paths = [Path(p) for p in labels["path"]]
    for path in paths:
        if not path.is_file():
            raise LabelsError(f"labeled image {path.name} not found in {path.parent}")
    results = []
    for done, (_, result) in enumerate(LocalRunner(workers).map(_describe_one, paths), start=1):
        results.append(result)
        if progress:
            progress(done, len(paths))
    width = max(rows.shape[0] for _, rows, _, _ in results)
    training = np.stack([np.vstack([rows, np.repeat(rows[-1:], width - rows.shape[0], axis=0)])
                         for _, rows, _, _ in results])
    scaled = {factor: [r[2][k] for r in results] for k, factor in enumerate(SCALES)}
    untrained = {factor: pd.DataFrame([r[3][factor] for r in results]) for factor in (1.0, *SCALES)}
    return CropDescriptors(np.stack([r[0] for r in results]), training, scaled, untrained)


def load_sets(sets: Sequence[tuple[str | Path, str | Path]]) -> pd.DataFrame:
    """Read several labeled sets into one table, each crop with the path of its file.

    Parameters
    ----------
    sets : sequence of (labels_csv, image_dir)

    Returns
    -------
    DataFrame
        As :func:`marsviz.evaluate.load_labels`, plus ``set`` (the labels file) and ``path``.

    Raises
    ------
    LabelsError
        If a file is listed in two sets (the same crop would be on both sides of a fold).
    """
    frames = []
    for labels_csv, image_dir in sets:
        frame = load_labels(labels_csv)
        frame["set"] = str(labels_csv)
        frame["path"] = [str(Path(image_dir) / name) for name in frame["file"]]
        frames.append(frame)
    table = pd.concat(frames, ignore_index=True)
    repeated = table["file"][table["file"].duplicated()]
    if not repeated.empty:
        raise LabelsError(f"{repeated.iloc[0]} is listed in two labeled sets; each crop must be in one")
    return table


def require_sklearn():
    """Raise a clear :class:`MarsvizError` if scikit-learn (needed only for training) is not installed."""
    try:
        import sklearn  # noqa: F401
    except ImportError:
        raise MarsvizError("training needs scikit-learn: pip install scikit-learn") from None


def _training_rows(descriptors: np.ndarray, classes: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Every copy of every crop as one row, (N * K, D), with its class; and K (1 for (N, D) descriptors)."""
    if descriptors.ndim == 2:
        return descriptors, classes, 1
    copies = descriptors.shape[1]
    return descriptors.reshape(-1, descriptors.shape[2]), np.repeat(classes, copies), copies


def standardisation(descriptors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of each descriptor (1 where a descriptor is constant)."""
    scale = descriptors.std(axis=0)
    return descriptors.mean(axis=0), np.where(scale > 1e-12, scale, 1.0)


def _symmetric(coef: np.ndarray, intercept: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # scikit-learn stores a two-class fit as one output (class 1 against 0); a softmax over (-w/2, w/2) is the same.
    return np.vstack([-coef / 2, coef / 2]), np.r_[-intercept / 2, intercept / 2]


def fit_linear_head(z: np.ndarray, classes: np.ndarray, c: float, inputs: tuple[int, int] | None = None) -> Head:
    """Class-balanced multinomial logistic regression on standardised descriptors (or the slice `inputs`)."""
    from sklearn.linear_model import LogisticRegression

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        chosen = z[:, slice(*inputs)] if inputs else z
        fitted = LogisticRegression(C=c, class_weight="balanced", max_iter=2000).fit(chosen, classes)
    coef, intercept = fitted.coef_, fitted.intercept_
    if len(fitted.classes_) == 2:
        coef, intercept = _symmetric(coef, intercept)
    return Head(classes=[str(k) for k in fitted.classes_], coef=np.array(coef), intercept=np.array(intercept),
                inputs=inputs)


def fit_network_head(z: np.ndarray, classes: np.ndarray, alpha: float, seed: int) -> Head:
    """One hidden layer of :data:`HIDDEN_UNITS` ReLU units, softmax output (the view model's head)."""
    from sklearn.neural_network import MLPClassifier

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = MLPClassifier((HIDDEN_UNITS,), alpha=alpha, solver="lbfgs", max_iter=1000,
                                random_state=seed).fit(z, classes)
    coef, intercept = fitted.coefs_[1].T, fitted.intercepts_[1]
    if len(fitted.classes_) == 2:
        coef, intercept = _symmetric(coef, intercept)
    return Head(classes=[str(k) for k in fitted.classes_], coef=np.array(coef), intercept=np.array(intercept),
                hidden_weights=fitted.coefs_[0].T.copy(), hidden_bias=fitted.intercepts_[0].copy())


def fit_model(descriptors: np.ndarray, classes: np.ndarray, c: float = C, c_all: float = C_ALL,
              metadata: dict | None = None, calibration: dict | None = None) -> TerrainModel:
    """Fit the standardisation and the heads of both scores.

    Parameters
    ----------
    descriptors : ndarray
        (N, D), or (N, K, D) for K training copies of each crop, all trained on.
    classes : ndarray
        (N,) class names; must include ``ice_terrain`` and ``other``.
    c : float
        Inverse L2 strength, per crop (see Notes), of the ice head on the hand-made descriptors.
    c_all : float
        Inverse L2 strength, per crop, of the heads on all the descriptors (ice and landmark).
    metadata : dict, optional
        Stored in the model file.
    calibration : dict, optional
        ``(slope, offset)`` per score (:func:`fit_calibration`); default none.

    Returns
    -------
    TerrainModel

    Notes
    -----
    scikit-learn weighs the L2 penalty against the data term summed over rows, so K nearly identical copies of
    each crop would weaken it K-fold; C is divided by K so that a value means the same with and without copies.
    """
    require_sklearn()
    rows, row_classes, copies = _training_rows(descriptors, classes)
    mean, scale = standardisation(rows)
    z = (rows - mean) / scale
    on_all = fit_linear_head(z, row_classes, c_all / copies)
    heads = {"ice_terrain_score": (fit_linear_head(z, row_classes, c / copies, HAND_MADE), on_all),
             "landmark_score": (on_all,)}
    return TerrainModel(descriptor_names=list(TILE_DESCRIPTOR_NAMES), mean=mean, scale=scale, heads=heads,
                        calibration=dict(calibration or {}), metadata=metadata or {})


def fit_calibration(raw: np.ndarray, target: np.ndarray) -> tuple[float, float]:
    """Platt map ``(slope, offset)`` taking raw scores to calibrated probabilities of `target`.

    A logistic regression of the target on the raw score's log-odds, unpenalised in effect (Platt 1999).  The
    slope is kept positive, so calibration never reorders scores.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> truth = rng.random(4000)
    >>> raw = 1 / (1 + np.exp(-2 * np.log(truth / (1 - truth))))   # overconfident: log-odds doubled
    >>> slope, offset = fit_calibration(raw, rng.random(4000) < truth)
    >>> round(slope, 1), abs(offset) < 0.2
    (0.5, True)
    """
    from sklearn.linear_model import LogisticRegression

    p = np.clip(np.asarray(raw, dtype=np.float64), 1e-12, 1 - 1e-12)
    logit = np.log(p / (1 - p))[:, None]
    target = np.asarray(target, dtype=bool)
    fitted = LogisticRegression(C=1e6, max_iter=1000).fit(logit, target)
    slope, offset = float(fitted.coef_[0, 0]), float(fitted.intercept_[0])
    if slope <= 0:
        # The raw score ranks the calibration crops no better than chance: a map must never reverse it, so keep
        # the order (a small slope) and give every crop about the base rate.
        rate = min(max(target.mean(), 1e-6), 1 - 1e-6)
        slope, offset = 0.01, float(np.log(rate / (1 - rate)))
    return round(slope, 9), round(offset, 9)


def ice_source_folds(classes: np.ndarray, groups: np.ndarray, seed: int) -> np.ndarray:
    """Fold of each crop: one fold per source image with ice terrain, the other sources dealt out among them.

    Every fold holds out exactly one ice source image (so the evaluation shows how the ice score varies
    from place to place) and a seeded share of the other source images; a source image's crops are never split.

    Examples
    --------
    >>> classes = np.array(["ice_terrain", "other", "ice_terrain", "other", "crater"])
    >>> folds = ice_source_folds(classes, np.array(["a", "b", "c", "d", "a"]), seed=0)
    >>> sorted(set(folds.tolist())), bool(folds[0] == folds[4]), bool(folds[0] != folds[2])
    ([0, 1], True, True)
    """
    ice_sources = sorted(set(groups[classes == ICE_CLASS]))
    others = np.array(sorted(set(groups) - set(ice_sources)), dtype=object)
    np.random.default_rng(seed).shuffle(others)
    fold_of = {source: k for k, source in enumerate(ice_sources)}
    fold_of.update({source: k % len(ice_sources) for k, source in enumerate(others)})
    return np.array([fold_of[g] for g in groups])


def _aggregate(tile_scores: list[np.ndarray]) -> np.ndarray:
    from marsviz.terrain.features import aggregate

    return np.array([aggregate(values, np.ones(values.shape, dtype=bool)) for values in tile_scores])


def cross_validated_scores(crops: CropDescriptors, classes: np.ndarray, groups: np.ndarray,
                           seed: int) -> tuple[dict[float, pd.DataFrame], np.ndarray]:
    """Raw (uncalibrated) scores of every crop, as it is and rescaled, from models that never saw its source image.

    Returns
    -------
    scores : dict of float to DataFrame
        Per scale (1.0 and each of :data:`SCALES`), ``ice_terrain_score`` and ``landmark_score`` per crop,
        before calibration.
    folds : ndarray
        The fold of each crop (:func:`ice_source_folds`).
    """
    require_sklearn()
    folds = ice_source_folds(classes, groups, seed)
    scales = (1.0, *SCALES)
    scores = {f: pd.DataFrame(np.nan, index=range(len(classes)), columns=list(SCORES)) for f in scales}
    for fold in range(folds.max() + 1):
        train_rows, test_rows = np.flatnonzero(folds != fold), np.flatnonzero(folds == fold)
        model = fit_model(crops.training[train_rows], classes[train_rows])
        for name, values in model.raw_scores(crops.as_is[test_rows]).items():
            scores[1.0].loc[test_rows, name] = values
        for factor in SCALES:
            tiles = [crops.scaled[factor][i] for i in test_rows]
            raw = model.raw_scores(np.vstack(tiles))
            bounds = np.cumsum([0] + [len(t) for t in tiles])
            for name, values in raw.items():
                per_crop = [values[a:b] for a, b in zip(bounds[:-1], bounds[1:])]
                scores[factor].loc[test_rows, name] = _aggregate(per_crop)
    return scores, folds


def score_targets(classes: np.ndarray) -> dict[str, np.ndarray]:
    """What each score predicts: ice terrain for the ice score, any landmark for the landmark score."""
    return {"ice_terrain_score": classes == ICE_CLASS, "landmark_score": classes != OTHER_CLASS}


def cross_fitted_calibration(raw: dict[float, pd.DataFrame], classes: np.ndarray,
                             folds: np.ndarray) -> dict[float, pd.DataFrame]:
    """Calibrate each fold's held-out scores with a Platt map fitted on the other folds' held-out scores."""
    targets = score_targets(classes)
    out = {factor: frame.copy() for factor, frame in raw.items()}
    for fold in range(folds.max() + 1):
        rows = folds == fold
        for score in SCORES:
            mapping = fit_calibration(raw[1.0][score][~rows], targets[score][~rows])
            for factor in raw:
                out[factor].loc[rows, score] = calibrated(raw[factor][score][rows].to_numpy(), mapping)
    return out


def reliability(target: np.ndarray, probability: np.ndarray, bins: int = RELIABILITY_BINS) -> dict:
    """Expected calibration error and the reliability table of probabilities against outcomes.

    Returns
    -------
    dict
        ``ece`` (the count-weighted mean gap between mean probability and observed frequency over equal-width
        bins) and ``bins``: per non-empty bin its ``low`` and ``high`` edges, ``n``, ``mean_probability`` and
        ``observed``.

    Examples
    --------
    >>> reliability(np.array([0, 0, 1, 1]), np.array([0.1, 0.1, 0.9, 0.9]))["ece"]
    0.1
    """
    target, probability = np.asarray(target, dtype=float), np.asarray(probability, dtype=float)
    index = np.minimum((probability * bins).astype(int), bins - 1)
    rows, gap = [], 0.0
    for b in range(bins):
        chosen = index == b
        if not chosen.any():
            continue
        mean_p, observed = probability[chosen].mean(), target[chosen].mean()
        gap += chosen.mean() * abs(mean_p - observed)
        rows.append({"low": b / bins, "high": (b + 1) / bins, "n": int(chosen.sum()),
                     "mean_probability": round(float(mean_p), 6), "observed": round(float(observed), 6)})
    return {"ece": round(float(gap), 6), "bins": rows}


def train(sets: Sequence[tuple[str | Path, str | Path]], output: str | Path | None = None,
          evaluation_output: str | Path | None = None, seed: int = 0, resamples: int = RESAMPLES,
          workers: int = 1, progress: Callable[[int, int], None] | None = None,
          scores_output: str | Path | None = None) -> dict:
    """Describe the crops, cross-validate, calibrate, fit the final model and write it with its evaluation.

    Parameters
    ----------
    sets : sequence of (labels_csv, image_dir)
        The labeled sets (``file,label`` CSV and the folder of crops), validated together.
    output : path, optional
        Model file to write; default ``model.json`` in :func:`trained_models_folder`.  The shipped model
        is rebuilt by naming ``marsviz/terrain/model.json``.
    evaluation_output : path, optional
        Evaluation summary; default ``evaluation.json`` beside `output`.
    seed : int, optional
        Seeds the folds, the network and the bootstrap.
    resamples : int, optional
        Bootstrap resamples of source images.
    workers : int, optional
        Processes describing crops.
    progress : callable, optional
        ``progress(done, total)`` while describing crops.
    scores_output : path, optional
        CSV to write every crop's held-out values to (one row per crop and scale: ``file``, ``source``,
        ``class``, ``scale``, the feature columns, ``view``, ``is_color``), to measure other composites
        without training again.

    Returns
    -------
    dict
        The evaluation summary (also written as JSON).
    """
    require_sklearn()
    from threadpoolctl import threadpool_limits

    # Many small fits: BLAS threads only contend (several times slower on a busy machine), so use one.
    with threadpool_limits(limits=1):
        return _train(sets, output, evaluation_output, seed, resamples, workers, progress, scores_output)


def _train(sets, output, evaluation_output, seed, resamples, workers, progress, scores_output) -> dict:
    output = Path(output) if output else default_model_output()
    evaluation_output = Path(evaluation_output) if evaluation_output else output.with_name("evaluation.json")
    labels = load_sets(sets)
    classes = labels["labels"].map(crop_class).to_numpy()
    names = ", ".join(str(labels_csv) for labels_csv, _ in sets)
    if not {ICE_CLASS, OTHER_CLASS} <= set(classes):
        raise LabelsError(f"{names}: training needs ice terrain ({', '.join(ICE_LABELS)}) and 'other' crops")
    groups = labels["source"].to_numpy()
    if np.unique(groups[classes == ICE_CLASS]).size < 2:
        raise LabelsError(f"{names}: cross-validation needs ice terrain from at least 2 source images")
    crops = describe_crops(labels, workers=workers, progress=progress)

    raw, folds = cross_validated_scores(crops, classes, groups, seed)
    held_out = cross_fitted_calibration(raw, classes, folds)
    untrained = _untrained_features()
    context = context_of_names(labels["file"])  # the crops' places, from the product ids in their names
    scores = pd.concat([held_out[1.0], crops.untrained[1.0][list(untrained)], context], axis=1)
    notes = {name: "held-out source images, calibrated" for name in SCORES}
    notes.update({name: ("in-sample: the view model was fitted on these crops" if feature.gates
                         else "untrained: all crops") for name, feature in untrained.items()})
    notes.update(dict.fromkeys(context, "untrained: the place in the crop's product id"))
    table = evaluate_scores(scores, labels, ICE_LABELS, resamples=resamples, seed=seed, notes=notes)
    composite = {factor: pd.concat([held_out[factor], crops.untrained[factor], context], axis=1)
                 for factor in held_out}
    if scores_output:
        _write_scores(Path(scores_output), labels, classes, composite)

    targets = score_targets(classes)
    calibration = {score: fit_calibration(raw[1.0][score], targets[score]) for score in SCORES}
    class_counts = {k: int((classes == k).sum()) for k in sorted(set(classes))}
    copies = (f"{DIHEDRAL_COPIES} per crop (the crop and 3 of its rotations and mirror images), plus the crop "
              "shrunk to half its size and the tiles of the crop enlarged to twice its size")
    metadata = {
        "trained_on": {"crops": int(len(labels)), "source_images": int(np.unique(groups).size),
                       "class_counts": class_counts, "source_image_ids": sorted(np.unique(groups).tolist())},
        "ice_terrain_heads": f"the mean of two class-balanced multinomial logistic regressions: on the hand-made "
                             f"descriptors (C={C}) and on all the descriptors (C={C_ALL})",
        "landmark_head": f"the class-balanced multinomial logistic regression on all the descriptors (C={C_ALL})",
        "calibration": "Platt map on the log-odds, fitted on held-out scores", "training_copies": copies,
        "seed": seed, "command": "python -m marsviz train SET [SET ...]",
    }
    model = fit_model(crops.training, classes, metadata=metadata, calibration=calibration)
    summary = {
        "dataset": {"labels": [Path(labels_csv).parent.name + "/" + Path(labels_csv).name for labels_csv, _ in sets],
                    "crops": int(len(labels)), "source_images": int(np.unique(groups).size),
                    "ice_source_images": int(np.unique(groups[classes == ICE_CLASS]).size),
                    "class_counts": class_counts,
                    "label_counts": _label_counts(labels),
                    "files_with_two_labels": int((labels["labels"].map(len) > 1).sum()),
                    "duplicate_rule": "a file listed with several labels is one crop carrying all of them: "
                                      "positive for a task if any label is; its model class is the first of "
                                      + ", ".join(CLASS_PRIORITY)},
        "protocol": {"grouping": "source image id (file name up to _RED), across every set given",
                     "folds": int(folds.max() + 1),
                     "folding": "leave one ice source image out: each fold holds out one source image with ice "
                                "terrain and a seeded share of the others",
                     "hyperparameters": {"c": C, "c_all": C_ALL,
                                         "chosen": "c fixed by the first labeled set; c_all the better of 0.1 and "
                                                   "1 on these folds (the network's descriptors were new)"},
                     "training_copies": copies, "tile_side": TRAINING_SETTINGS.tile_side,
                     "calibration": "Platt map on the log-odds; held-out scores of a fold calibrated by a map "
                                    "fitted on the other folds' held-out scores; the shipped map is fitted on all",
                     "shipped_calibration": {score: list(calibration[score]) for score in SCORES},
                     "seed": seed, "bootstrap_resamples": resamples, "environment": training_environment(),
                     "interval": "95% percentile bootstrap over source images"},
        "targets": TARGETS,
        "rows": json_records(table, FIGURE_DIGITS),
        "spiders": _spider_row(labels, held_out[1.0]["ice_terrain_score"].to_numpy()),
        "per_ice_source": _per_ice_source(classes, groups, held_out[1.0]["ice_terrain_score"].to_numpy()),
        "scales": _scale_rows(held_out, targets),
        "reliability": {score: reliability(targets[score], held_out[1.0][score]) for score in SCORES},
        "landmark_by_class": _landmark_by_class(held_out[1.0]["landmark_score"].to_numpy(), classes),
        "presets": preset_evaluation(composite, {"ice_terrain": targets["ice_terrain_score"],
                                                 "landmark": targets["landmark_score"]}, groups, resamples, seed),
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(output, model.to_json())
    write_atomic(evaluation_output, json.dumps(summary, indent=1, sort_keys=False) + "\n")
    return summary


def _write_scores(path: Path, labels: pd.DataFrame, classes: np.ndarray, frames: dict[float, pd.DataFrame]) -> None:
    keys = pd.DataFrame({"file": labels["file"].to_numpy(), "source": labels["source"].to_numpy(), "class": classes})
    table = pd.concat([pd.concat([keys, frame.reset_index(drop=True)], axis=1).assign(scale=factor)
                       for factor, frame in frames.items()], ignore_index=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, table.to_csv(index=False, float_format="%.6g"))


def _label_counts(labels: pd.DataFrame) -> dict[str, int]:
    counts: dict[str, int] = {}
    for crop_labels in labels["labels"]:
        for label in crop_labels:
            counts[label] = counts.get(label, 0) + 1
    return dict(sorted(counts.items()))


def _spider_row(labels: pd.DataFrame, ice_scores: np.ndarray) -> dict:
    """The ice score's ROC AUC for spider crops against every crop without ice terrain."""
    spider = labels["labels"].map(lambda crop_labels: "spider" in crop_labels).to_numpy()
    ice = labels["labels"].map(lambda crop_labels: bool(set(crop_labels) & set(ICE_LABELS))).to_numpy()
    chosen = spider | ~ice
    return {"n": int(spider.sum()), "sources": int(labels["source"][spider].nunique()),
            "auc_vs_no_ice": figure(roc_auc(spider[chosen], ice_scores[chosen]))}


def _per_ice_source(classes: np.ndarray, groups: np.ndarray, ice_scores: np.ndarray) -> list[dict]:
    """Per source image with ice terrain: its crops' held-out ice scores against every crop without ice."""
    ice = classes == ICE_CLASS
    rows = []
    for source in sorted(set(groups[ice])):
        chosen = (groups == source) & ice
        mask = chosen | ~ice
        rows.append({"source": source, "n": int(chosen.sum()),
                     "auc": figure(roc_auc(chosen[mask], ice_scores[mask])),
                     "median_score": round(float(np.median(ice_scores[chosen])), 6)})
    return rows


def _scale_rows(held_out: dict[float, pd.DataFrame], targets: dict[str, np.ndarray]) -> list[dict]:
    """ROC AUC and average precision of each score on the crops as they are and rescaled."""
    rows = []
    for score in SCORES:
        y = targets[score]
        base = roc_auc(y, held_out[1.0][score].to_numpy())
        for factor, frame in held_out.items():
            values = frame[score].to_numpy()
            auc = roc_auc(y, values)
            rows.append({"score": score, "scale": factor, "auc": figure(auc),
                         "average_precision": figure(average_precision(y, values)),
                         "auc_change": figure(auc - base)})
    return rows


def _landmark_by_class(landmark_scores: np.ndarray, classes: np.ndarray) -> list[dict]:
    """Held-out landmark score ROC AUC of each landmark class against "other" alone."""
    rows = []
    for kind in sorted(set(classes) - {OTHER_CLASS}):
        chosen = (classes == kind) | (classes == OTHER_CLASS)
        rows.append({"class": kind, "n": int((classes == kind).sum()),
                     "auc_vs_other": figure(roc_auc(classes[chosen] == kind, landmark_scores[chosen]))})
    return rows


#: Libraries whose versions a trained model depends on: the same data and seed give identical files only with
#: the same versions (a solver's or a descriptor's last bits can change between releases).
TRAINING_LIBRARIES = ("numpy", "scipy", "scikit-image", "scikit-learn", "pillow", "onnxruntime")


def trained_models_folder() -> Path:
    """Where ``train`` and ``train-view`` write a model when no output is named: ``models`` in the data folder.

    The package's own files are never overwritten by default: the app uses a model written here once the
    setting ``terrain_model`` (or ``view_model``) names it.
    """
    return config.home() / "models"


def default_model_output() -> Path:
    """The terrain model file ``train`` writes when no output is named (:func:`trained_models_folder`)."""
    return trained_models_folder() / SHIPPED_MODEL.name


def training_environment() -> dict[str, str]:
    """The Python version and the versions of :data:`TRAINING_LIBRARIES` this process trains with.

    Examples
    --------
    >>> sorted(training_environment())
    ['numpy', 'onnxruntime', 'pillow', 'python', 'scikit-image', 'scikit-learn', 'scipy']
    """
    import platform
    from importlib.metadata import PackageNotFoundError, version

    def installed(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "not installed"

    return {"python": platform.python_version(), **{name: installed(name) for name in TRAINING_LIBRARIES}}


def write_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` through a temporary file beside it, so a reader never sees half a file."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)
